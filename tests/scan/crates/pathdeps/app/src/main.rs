fn main() {
    let store = pd_core::Store::default();
    store.put(1);
}
