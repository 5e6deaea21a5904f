//! The engines that run a model: loom explores interleavings; std runs the
//! program on real threads a few times.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Engine {
    /// Explore interleavings exhaustively up to a preemption bound.
    #[default]
    Loom,
    /// Run on real threads; the lock graph still sees deadlocks that did not happen.
    Std,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Loom => "loom",
            Engine::Std => "std",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "loom" => Ok(Engine::Loom),
            "std" => Ok(Engine::Std),
            other => Err(format!("unknown engine `{other}`; use `loom` or `std`")),
        }
    }
}
