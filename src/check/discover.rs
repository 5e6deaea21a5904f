//! Which files `interlock check` runs: the files named, and every `.rs` file
//! under the directories named (skipping `target` and hidden directories).
//!
//! A walk stays inside the tree it was given: a symbolic link to a directory
//! is not followed (`x -> .` would loop, `up -> ..` would leave the tree),
//! and only regular files are read (a FIFO named `x.rs` would block the
//! read forever). What the walk passes by is said, never dropped in silence.

use std::collections::HashSet;
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

/// A path the walk did not read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub display: String,
    pub reason: String,
}

/// The programs found, and what was passed by on the way.
#[derive(Debug, Default)]
pub struct Discovery {
    pub programs: Vec<Program>,
    pub skipped: Vec<Skipped>,
}

pub fn discover(paths: &[PathBuf]) -> Result<Discovery, Box<InputError>> {
    let mut found = Discovery::default();
    // One file reached twice (named twice, or a file symlink beside its
    // target) is one program.
    let mut seen = HashSet::new();
    for path in paths {
        // A path the user named is followed even when it is a link.
        let metadata = std::fs::metadata(path).map_err(|e| not_usable(path, &e))?;
        if metadata.is_file() {
            if seen.insert(identity(path)) {
                found.programs.push(Program {
                    display: path.display().to_string(),
                    path: path.clone(),
                    named: true,
                });
            }
        } else if metadata.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files, &mut found.skipped);
            files.sort();
            for file in files {
                if seen.insert(identity(&file)) {
                    found.programs.push(Program {
                        display: file.display().to_string(),
                        path: file,
                        named: false,
                    });
                } else {
                    found.skipped.push(Skipped {
                        display: file.display().to_string(),
                        reason: "the same file as another program checked".to_string(),
                    });
                }
            }
        } else {
            return Err(Box::new(
                InputError::new(format!(
                    "`{}` is not a program: it is {}",
                    path.display(),
                    kind_of(&metadata.file_type())
                ))
                .with_help(
                    "give a Rust program (a `.rs` file with `fn main`) or a directory of them",
                ),
            ));
        }
    }
    Ok(found)
}

/// What identifies a file whatever path reaches it.
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn not_usable(path: &Path, e: &std::io::Error) -> Box<InputError> {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        _ => e.to_string(),
    };
    Box::new(
        InputError::new(format!("cannot read `{}`: {what}", path.display()))
            .with_help("give a Rust program (a `.rs` file with `fn main`) or a directory of them"),
    )
}

/// `a FIFO`, `a character device`, ...: what a path that is neither a file
/// nor a directory is, in words.
pub fn kind_of(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, skipped: &mut Vec<Skipped>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            skipped.push(Skipped {
                display: dir.display().to_string(),
                reason: format!("cannot list the directory: {e}"),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        // The entry's own type: a link is a link, not what it points at.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let is_rust = path.extension().is_some_and(|e| e == "rs");
        if kind.is_dir() {
            if name != "target" {
                walk(&path, out, skipped);
            }
        } else if kind.is_file() {
            if is_rust {
                out.push(path);
            }
        } else if kind.is_symlink() {
            match std::fs::metadata(&path) {
                // A link to a file is that file (read once, see `seen`).
                Ok(target) if target.is_file() => {
                    if is_rust {
                        out.push(path);
                    }
                }
                Ok(target) if target.is_dir() => skipped.push(Skipped {
                    display: path.display().to_string(),
                    reason: "a symbolic link to a directory, not followed (it may lead out of the tree or around it)".to_string(),
                }),
                Ok(target) if is_rust => skipped.push(Skipped {
                    display: path.display().to_string(),
                    reason: format!(
                        "a symbolic link to {}, not a regular file",
                        kind_of(&target.file_type())
                    ),
                }),
                Ok(_) => {}
                Err(_) if is_rust => skipped.push(Skipped {
                    display: path.display().to_string(),
                    reason: "a symbolic link that leads nowhere".to_string(),
                }),
                Err(_) => {}
            }
        } else if is_rust {
            skipped.push(Skipped {
                display: path.display().to_string(),
                reason: format!("{}, not a regular file", kind_of(&kind)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One entry of a generated tree: under which earlier directory, and what.
    #[derive(Clone, Debug)]
    enum Entry {
        Dir,
        Rust,
        Text,
        /// A link to the directory this many levels up (0 is its own directory).
        LinkUp(u8),
        /// A link to an earlier entry.
        LinkTo(usize),
        #[cfg(unix)]
        Fifo,
    }

    fn entry() -> impl Strategy<Value = Entry> {
        prop_oneof![
            3 => Just(Entry::Dir),
            3 => Just(Entry::Rust),
            1 => Just(Entry::Text),
            2 => (0u8..3).prop_map(Entry::LinkUp),
            2 => (0usize..32).prop_map(Entry::LinkTo),
            #[cfg(unix)]
            1 => Just(Entry::Fifo),
        ]
    }

    /// Builds the tree under `root`; returns the regular `.rs` files a walk
    /// must find (those under no link).
    fn build(root: &Path, entries: &[(usize, Entry)]) -> Vec<PathBuf> {
        let mut dirs = vec![root.to_path_buf()];
        let mut made: Vec<PathBuf> = Vec::new();
        let mut expected = Vec::new();
        for (i, (parent, entry)) in entries.iter().enumerate() {
            let parent = dirs[parent % dirs.len()].clone();
            let path = match entry {
                Entry::Rust => parent.join(format!("p{i}.rs")),
                Entry::Text => parent.join(format!("t{i}.txt")),
                _ => parent.join(format!("e{i}.rs")),
            };
            match entry {
                Entry::Dir => {
                    let dir = parent.join(format!("d{i}"));
                    std::fs::create_dir(&dir).unwrap();
                    dirs.push(dir.clone());
                    made.push(dir);
                    continue;
                }
                Entry::Rust => {
                    std::fs::write(&path, "fn main() {}\n").unwrap();
                    expected.push(path.clone());
                }
                Entry::Text => std::fs::write(&path, "text").unwrap(),
                #[cfg(unix)]
                Entry::LinkUp(up) => {
                    let target = if *up == 0 {
                        ".".to_string()
                    } else {
                        vec![".."; *up as usize].join("/")
                    };
                    std::os::unix::fs::symlink(target, &path).unwrap();
                }
                #[cfg(unix)]
                Entry::LinkTo(to) => {
                    let target = made
                        .get(to % made.len().max(1))
                        .cloned()
                        .unwrap_or_else(|| root.to_path_buf());
                    std::os::unix::fs::symlink(target, &path).unwrap();
                }
                #[cfg(unix)]
                Entry::Fifo => {
                    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
                    // SAFETY: a valid C string naming a path in a fresh directory.
                    unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
                }
                #[cfg(not(unix))]
                _ => continue,
            }
            made.push(path);
        }
        expected
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the tree (links to itself, to its parents, to files,
        /// FIFOs named `.rs`): the walk ends, finds every regular program
        /// once, reads nothing else, never leaves the tree, and names what it
        /// passed by.
        #[test]
        fn a_walk_ends_and_reads_only_the_tree_s_regular_files(
            entries in prop::collection::vec((0usize..8, entry()), 0..24)
        ) {
            let root = std::env::temp_dir().join(format!(
                "interlock-walk-{}-{}",
                std::process::id(),
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
            ));
            let tree = root.join("tree");
            std::fs::create_dir_all(&tree).unwrap();
            let expected = build(&tree, &entries);
            let found = discover(std::slice::from_ref(&tree));
            let result = (|| -> Result<(), TestCaseError> {
                let found = found.map_err(|e| TestCaseError::fail(e.message.clone()))?;
                let mut seen = HashSet::new();
                for program in &found.programs {
                    prop_assert!(program.path.starts_with(&tree), "left the tree: {:?}", program.path);
                    prop_assert!(std::fs::metadata(&program.path).unwrap().is_file());
                    prop_assert!(seen.insert(identity(&program.path)), "twice: {:?}", program.path);
                }
                for file in &expected {
                    prop_assert!(seen.contains(&identity(file)), "missed {:?}", file);
                }
                for skipped in &found.skipped {
                    prop_assert!(!skipped.reason.is_empty());
                }
                Ok(())
            })();
            std::fs::remove_dir_all(&root).unwrap();
            result?;
        }
    }
}
