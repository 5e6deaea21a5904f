//! The fixed twins: the blocking guard is dropped before the await; the
//! async guard is released before the awaited work locks again.
use std::sync::Mutex;

pub struct Client {
    cache: Mutex<Vec<u8>>,
    conn: tokio::sync::Mutex<Vec<u8>>,
}

async fn fetch() -> Vec<u8> {
    Vec::new()
}

impl Client {
    pub async fn refresh(&self) {
        let cache = self.cache.lock().unwrap();
        let stale = cache.is_empty();
        drop(cache);
        let fresh = fetch().await;
        if stale {
            *self.cache.lock().unwrap() = fresh;
        }
    }

    async fn send(&self, bytes: &[u8]) {
        self.conn.lock().await.extend_from_slice(bytes);
    }

    pub async fn flush(&self) {
        let pending = self.conn.lock().await.clone();
        self.send(&pending).await;
        let mut conn = self.conn.lock().await;
        conn.clear();
        fetch().await;
    }
}
