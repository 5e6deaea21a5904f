//! The fixed twin: the second read is `read_recursive` (parking_lot), or
//! the first guard is reused.
use parking_lot::RwLock;
use std::sync::RwLock as StdRwLock;

pub struct Routes {
    table: RwLock<Vec<String>>,
    names: StdRwLock<Vec<String>>,
}

impl Routes {
    fn count(&self) -> usize {
        self.table.read_recursive().len()
    }

    pub fn describe(&self) -> String {
        let table = self.table.read();
        format!("{} routes: {:?}", self.count(), *table)
    }

    pub fn first_name(&self) -> Option<String> {
        let names = self.names.read().unwrap();
        names.first().cloned().or_else(|| names.last().cloned())
    }

    pub fn add(&self, route: String) {
        self.table.write().push(route);
    }
}
