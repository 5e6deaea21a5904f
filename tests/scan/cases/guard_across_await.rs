//! A blocking lock's guard held across `.await`, and an async lock's guard
//! held across an `.await` whose work locks it again.
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
        let mut cache = self.cache.lock().unwrap();
        let fresh = fetch().await; // expect: guard-across-await
        *cache = fresh;
    }

    async fn send(&self, bytes: &[u8]) {
        self.conn.lock().await.extend_from_slice(bytes);
    }

    pub async fn flush(&self) {
        let pending = self.conn.lock().await;
        self.send(&pending).await; // expect: double-lock
    }
}
