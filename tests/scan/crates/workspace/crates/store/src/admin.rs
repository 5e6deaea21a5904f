//! A module in its own file: `store::admin::reset`.
pub fn reset() {
    super::TABLE.lock().unwrap().clear();
}
