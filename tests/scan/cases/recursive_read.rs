//! A read lock taken again while its read guard lives: fine until a writer
//! queues between the two reads.
use parking_lot::RwLock;
use std::sync::RwLock as StdRwLock;

pub struct Routes {
    table: RwLock<Vec<String>>,
    names: StdRwLock<Vec<String>>,
}

impl Routes {
    fn count(&self) -> usize {
        self.table.read().len()
    }

    pub fn describe(&self) -> String {
        let table = self.table.read();
        format!("{} routes: {:?}", self.count(), *table) // expect: recursive-read
    }

    pub fn first_name(&self) -> Option<String> {
        let names = self.names.read().unwrap();
        let again = self.names.read().unwrap(); // expect: recursive-read
        names.first().cloned().or_else(|| again.last().cloned())
    }

    pub fn add(&self, route: String) {
        self.table.write().push(route);
    }
}
