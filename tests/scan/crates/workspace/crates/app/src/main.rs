//! Calls into the other workspace member while holding its lock.
fn main() {
    let table = store::TABLE.lock().unwrap();
    if table.is_empty() {
        store::insert(1); // expect: double-lock
    }
    drop(table);
    let _again = store::TABLE.lock().unwrap();
    store::admin::reset(); // expect: double-lock
}
