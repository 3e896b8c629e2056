//! Plugin instances on worker threads, as a DAW runs buses in parallel: each instance is made,
//! driven and dropped on its own thread (clack's instances are not `Send`), and the test sends
//! it work.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::clap_host::{ClapBundle, PluginInstance};

type Job = Box<dyn FnOnce(&mut PluginInstance) + Send>;

/// One instance living on its own thread.
pub struct ThreadedInstance {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl ThreadedInstance {
    /// Loads the bundle at `path` on a new thread, creates `plugin_id` there with the track
    /// name `name`, and runs `setup` on it.
    pub fn spawn(
        path: PathBuf,
        plugin_id: &'static str,
        name: String,
        setup: impl FnOnce(&mut PluginInstance) + Send + 'static,
    ) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("host-{name}"))
            .spawn(move || {
                let bundle = ClapBundle::load(&path);
                let mut plugin = PluginInstance::new_with_track_name(&bundle, plugin_id, &name);
                setup(&mut plugin);
                ready_tx.send(()).expect("the test waits for the instance");
                for job in rx {
                    job(&mut plugin);
                }
            })
            .expect("a thread for the instance");
        ready
            .recv()
            .expect("the instance's thread failed while setting up");
        Self {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Runs `f` on the instance's thread and waits for its result.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PluginInstance) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = mpsc::channel();
        self.post(move |p| {
            let _ = tx.send(f(p));
        });
        rx.recv().expect("the instance's thread panicked")
    }

    /// Queues `f` on the instance's thread without waiting.
    pub fn post(&self, f: impl FnOnce(&mut PluginInstance) + Send + 'static) {
        self.jobs
            .as_ref()
            .expect("open")
            .send(Box::new(f))
            .expect("the instance's thread panicked");
    }
}

impl Drop for ThreadedInstance {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let result = thread.join();
            if result.is_err() && !std::thread::panicking() {
                panic!("an instance's thread panicked");
            }
        }
    }
}
