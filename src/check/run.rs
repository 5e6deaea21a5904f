//! Running one built program: in its own directory, in a process group of
//! its own, under the time limit plus a stated grace, and saying how it
//! ended.
//!
//! The program stops its own exploration at the time limit, between two
//! executions; the grace is for the execution then running and the report.
//! Past it the whole group is killed, so that a child the program spawned
//! does not outlive the check.

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long past its time limit a program may take to end its last
/// execution and write its report before it is stopped.
pub const GRACE: Duration = Duration::from_secs(3);

/// How many bytes of the program's standard error a crash report quotes.
const STDERR_TAIL: usize = 2000;

/// What is needed to run one program.
pub struct Launch<'a> {
    pub exe: &'a Path,
    /// The program's own directory: its relative paths mean what they say.
    pub working_dir: &'a Path,
    pub env: Vec<(&'static str, String)>,
    /// Where its standard error goes, when it is not shown.
    pub stderr_file: &'a Path,
    /// Show standard error (progress) instead of keeping it.
    pub show_stderr: bool,
    pub timeout: Duration,
}

/// How the program ended.
pub enum Ending {
    /// It ended by itself, with this status.
    Exited(ExitStatus),
    /// It was still running at the time limit plus the grace, and was stopped.
    TimedOut,
}

/// The ending and the last of what the program wrote to standard error.
pub struct Ended {
    pub ending: Ending,
    pub stderr_tail: String,
}

pub fn run(launch: &Launch) -> std::io::Result<Ended> {
    let mut command = Command::new(launch.exe);
    command
        .current_dir(launch.working_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (key, value) in &launch.env {
        command.env(key, value);
    }
    if launch.show_stderr {
        command.stderr(Stdio::inherit());
    } else {
        command.stderr(std::fs::File::create(launch.stderr_file)?);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command.spawn()?;
    // An absurd time limit means no limit rather than an overflow.
    let deadline = Instant::now()
        .checked_add(launch.timeout)
        .and_then(|d| d.checked_add(GRACE));
    let ending = loop {
        if let Some(status) = child.try_wait()? {
            break Ending::Exited(status);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            kill_group(&mut child);
            let _ = child.wait();
            break Ending::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // A process the program started and left behind goes with it.
    kill_group(&mut child);
    let stderr_tail = if launch.show_stderr {
        String::new()
    } else {
        tail(launch.stderr_file)
    };
    Ok(Ended {
        ending,
        stderr_tail,
    })
}

#[cfg(unix)]
fn kill_group(child: &mut std::process::Child) {
    // The group has the child's id (`process_group(0)`); the child itself
    // may already be gone while others of its group live on.
    if let Ok(id) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negative id signals that process group only.
        unsafe {
            libc::kill(-id, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}

#[cfg(not(unix))]
fn kill_group(child: &mut std::process::Child) {
    let _ = child.kill();
}

/// The end of a file, cut at a line start where one is near.
fn tail(path: &Path) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return String::new();
    };
    let start = bytes.len().saturating_sub(STDERR_TAIL);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let text = match (start > 0, text.find('\n')) {
        (true, Some(i)) => &text[i + 1..],
        _ => &text[..],
    };
    text.trim_end().to_string()
}

/// The name of a signal that ends programs, with what it usually means.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        4 => "SIGILL (an illegal instruction)",
        6 => "SIGABRT (an abort)",
        7 => "SIGBUS (a bad memory access)",
        8 => "SIGFPE (an arithmetic error)",
        9 => "SIGKILL (killed, often by the system when memory runs out)",
        11 => "SIGSEGV (a bad memory access, or a stack overflow)",
        15 => "SIGTERM (terminated)",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

/// The signal that ended a process, if one did.
pub fn signal_of(status: &ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}
