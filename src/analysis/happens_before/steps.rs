//! Rendering trace events as the steps a finding shows.

use crate::event::Trace;
use crate::finding::TraceStep;

/// At most this many steps go into a finding's explanation.
pub const MAX_STEPS: usize = 64;

/// One event as a step: its agent's name, what it did, where.
pub fn step(trace: &Trace, index: usize, highlight: bool) -> TraceStep {
    let event = &trace.events[index];
    let step = TraceStep::new(
        trace.agent_name(event.agent),
        trace.describe(&event.action),
        &event.site,
    );
    if highlight {
        step.highlighted()
    } else {
        step
    }
}

/// The whole trace as steps, with the events at `highlight` (indices into
/// `trace.events`) marked.
pub fn trace_steps(trace: &Trace, highlight: &[usize]) -> Vec<TraceStep> {
    (0..trace.events.len())
        .map(|i| step(trace, i, highlight.contains(&i)))
        .collect()
}

/// The steps that explain a finding about the events at `highlight`: the
/// trace up to the last of them when that is short; otherwise the events of
/// the highlighted agents from the first highlighted event on, trimmed to the
/// few steps before each highlighted one so that at most about
/// [`MAX_STEPS`] remain.
pub fn relevant_steps(trace: &Trace, highlight: &[usize]) -> Vec<TraceStep> {
    let Some(&last) = highlight.iter().max() else {
        return Vec::new();
    };
    if last < MAX_STEPS {
        return (0..=last)
            .map(|i| step(trace, i, highlight.contains(&i)))
            .collect();
    }
    let first = highlight.iter().copied().min().unwrap_or(last);
    let agents: Vec<_> = highlight.iter().map(|&i| trace.events[i].agent).collect();
    let mut chosen: Vec<usize> = (first..=last)
        .filter(|&i| agents.contains(&trace.events[i].agent))
        .take(MAX_STEPS + 1)
        .collect();
    if chosen.len() > MAX_STEPS {
        // Keep each highlighted event with the events of its agent just before it.
        let per = (MAX_STEPS / highlight.len()).max(1);
        chosen.clear();
        for &h in highlight {
            let agent = trace.events[h].agent;
            chosen.extend(
                (0..=h)
                    .rev()
                    .filter(|&i| trace.events[i].agent == agent)
                    .take(per),
            );
        }
        chosen.sort_unstable();
        chosen.dedup();
    }
    chosen
        .into_iter()
        .map(|i| step(trace, i, highlight.contains(&i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Action, ObjectKind, Site};

    fn trace_of(len: usize) -> Trace {
        let mut trace = Trace::new();
        let t1 = trace.thread("thread 1");
        let t2 = trace.thread("thread 2");
        let cell = trace.object(ObjectKind::Cell, "x", Site::new("s.rs", 1, 1));
        for i in 0..len {
            let agent = if i % 2 == 0 { t1 } else { t2 };
            trace.push(
                agent,
                Action::Read { cell },
                Site::new("s.rs", i as u32 + 1, 1),
            );
        }
        trace
    }

    #[test]
    fn the_whole_trace_with_highlights() {
        let trace = trace_of(4);
        let steps = trace_steps(&trace, &[1, 3]);
        assert_eq!(steps.len(), 4);
        assert_eq!(steps[1].agent, "thread 2");
        assert_eq!(steps[1].action, "read `x`");
        assert_eq!(steps[1].line, 2);
        let lit: Vec<_> = steps.iter().map(|s| s.highlight).collect();
        assert_eq!(lit, vec![false, true, false, true]);
    }

    #[test]
    fn a_short_prefix_is_shown_whole_up_to_the_last_highlight() {
        let trace = trace_of(10);
        let steps = relevant_steps(&trace, &[2, 5]);
        assert_eq!(steps.len(), 6);
        assert!(steps[5].highlight);
    }

    #[test]
    fn a_long_trace_is_trimmed_around_the_highlights() {
        let trace = trace_of(10_000);
        let steps = relevant_steps(&trace, &[10, 9_001]);
        assert!(steps.len() <= MAX_STEPS, "{}", steps.len());
        assert_eq!(steps.iter().filter(|s| s.highlight).count(), 2);
        assert_eq!(steps.last().unwrap().line, 9_002);
        assert!(relevant_steps(&trace, &[]).is_empty());
    }
}
