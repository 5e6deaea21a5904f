//! Closures handed to a function that keeps them (a callback list, a
//! thread it spawns) do not run while the caller's guards are held.
use std::sync::Mutex;

type Callback = Box<dyn Fn() + Send>;

pub struct Bus {
    state: Mutex<u32>,
    callbacks: Mutex<Vec<Callback>>,
}

impl Bus {
    fn register(&self, f: impl Fn() + Send + 'static) {
        self.callbacks.lock().unwrap().push(Box::new(f));
    }

    fn in_background(&self, f: impl FnOnce() + Send + 'static) {
        std::thread::spawn(f);
    }

    fn forward(&self, f: impl FnOnce() + Send + 'static) {
        self.in_background(f);
    }

    pub fn setup(&'static self) {
        let state = self.state.lock().unwrap();
        if *state == 0 {
            self.register(move || {
                *self.state.lock().unwrap() += 1;
            });
            self.forward(move || {
                *self.state.lock().unwrap() += 1;
            });
            let later: Callback = Box::new(move || {
                *self.state.lock().unwrap() += 1;
            });
            self.callbacks.lock().unwrap().push(later);
        }
    }
}
