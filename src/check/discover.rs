//! Which files `interlock check` runs: the files named, and every `.rs` file
//! under the directories named (skipping `target` and hidden directories).

use std::path::{Path, PathBuf};

use crate::input::InputError;

/// A program given on the command line, by the path a user would recognise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The path as shown in reports (as given, or relative to the directory given).
    pub display: String,
    pub path: PathBuf,
    /// True when the user named the file itself (a file without `main` is then an error).
    pub named: bool,
}

pub fn discover(paths: &[PathBuf]) -> Result<Vec<Program>, Box<InputError>> {
    let mut programs = Vec::new();
    for path in paths {
        if path.is_file() {
            programs.push(Program {
                display: path.display().to_string(),
                path: path.clone(),
                named: true,
            });
        } else if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found);
            found.sort();
            programs.extend(found.into_iter().map(|p| Program {
                display: p.display().to_string(),
                path: p,
                named: false,
            }));
        } else {
            return Err(Box::new(
                InputError::new(format!("no such file or directory: `{}`", path.display()))
                    .with_help(
                        "give a Rust program (a `.rs` file with `fn main`) or a directory of them",
                    ),
            ));
        }
    }
    Ok(programs)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if name != "target" {
                walk(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
