//! The link between an instrumented object and the execution that records it.

use std::sync::Arc;

use super::execution::{self, Blocker, Execution};
use crate::event::{Action, AgentId, ObjectId, ObjectKind, Site};

/// An object's id in the execution it was created in. Objects created
/// outside any model (or by the std engine outside a run) are not recorded.
#[derive(Clone)]
pub(crate) struct Handle {
    recorded: Option<(Arc<Execution>, ObjectId)>,
}

impl Handle {
    pub fn new(kind: ObjectKind, site: Site) -> Self {
        Handle {
            recorded: execution::current().map(|exec| {
                let id = exec.register_object(kind, site);
                (exec, id)
            }),
        }
    }

    pub fn id(&self) -> Option<ObjectId> {
        self.recorded.as_ref().map(|(_, id)| *id)
    }

    pub fn execution(&self) -> Option<&Arc<Execution>> {
        self.recorded.as_ref().map(|(e, _)| e)
    }

    /// Records `make(id)` as a step of the running thread.
    pub fn record(&self, site: Site, make: impl FnOnce(ObjectId) -> Action) -> Option<AgentId> {
        let (exec, id) = self.recorded.as_ref()?;
        // A spin loop on an atomic must see its execution wound down too.
        exec.stop_if_wound_down();
        Some(exec.record(make(*id), site))
    }

    /// [`Handle::record`] by a thread already known, when it is.
    pub fn record_by(
        &self,
        agent: Option<AgentId>,
        site: Site,
        make: impl FnOnce(ObjectId) -> Action,
    ) {
        let Some(agent) = agent else {
            self.record(site, make);
            return;
        };
        if let Some((exec, id)) = self.recorded.as_ref() {
            exec.stop_if_wound_down();
            exec.record_by(agent, make(*id), site);
        }
    }

    /// Records a step that may block, remembering what the thread waits for.
    pub fn record_blocking(
        &self,
        site: Site,
        action: impl FnOnce(ObjectId) -> Option<Action>,
        blocker: impl FnOnce(ObjectId) -> Blocker,
    ) -> Option<AgentId> {
        let (exec, id) = self.recorded.as_ref()?;
        Some(exec.record_blocking(action(*id), blocker(*id), site))
    }

    pub fn unblock(&self, agent: Option<AgentId>) {
        if let (Some((exec, _)), Some(agent)) = (&self.recorded, agent) {
            exec.unblock(agent);
        }
    }
}
