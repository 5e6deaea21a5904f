pub fn shared() -> u8 { 1 }
