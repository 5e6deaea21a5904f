pub fn fixture() -> u8 { 2 }
