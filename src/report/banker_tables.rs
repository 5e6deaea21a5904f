//! The banker's tables as text: Allocation, Max, Need (and Request) side by
//! side, a row per process and a column per resource type. Used by
//! `interlock banker` and by unsafe-state findings from running programs.

use crate::analysis::banker::State;

/// Allocation, Max and Need (and Request, when any process has one).
pub fn matrices(state: &State) -> Vec<String> {
    let need = state.need();
    let mut groups: Vec<(&str, Vec<Option<&[u64]>>)> = vec![
        (
            "Allocation",
            state.allocation.iter().map(|r| Some(&r[..])).collect(),
        ),
        ("Max", state.max.iter().map(|r| Some(&r[..])).collect()),
        ("Need", need.iter().map(|r| Some(&r[..])).collect()),
    ];
    if state.request.iter().any(Option::is_some) {
        groups.push((
            "Request",
            state.request.iter().map(|r| r.as_deref()).collect(),
        ));
    }
    table(&state.processes, &state.resources, &groups)
}

/// Groups of per-process rows (`None`: no row, shown as `-`) as aligned text.
pub fn table(
    processes: &[String],
    resources: &[String],
    groups: &[(&str, Vec<Option<&[u64]>>)],
) -> Vec<String> {
    let name_width = processes
        .iter()
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(0);
    let pad = |name: &str| format!("{name:<name_width$}");
    let gap = "   ";
    // Per group: column widths and the group's total width.
    let layout: Vec<(Vec<usize>, usize)> = groups
        .iter()
        .map(|(title, rows)| {
            let widths: Vec<usize> = resources
                .iter()
                .enumerate()
                .map(|(r, name)| {
                    rows.iter()
                        .flatten()
                        .map(|row| row[r].to_string().len())
                        .chain([name.chars().count(), 1])
                        .max()
                        .unwrap_or(1)
                })
                .collect();
            let inner = widths.iter().sum::<usize>() + widths.len().saturating_sub(1);
            (widths, inner.max(title.chars().count()))
        })
        .collect();
    let indent = format!("  {}  ", pad(""));
    let mut titles = indent.clone();
    let mut names = indent;
    for (g, (title, _)) in groups.iter().enumerate() {
        let (widths, width) = &layout[g];
        if g > 0 {
            titles.push_str(gap);
            names.push_str(gap);
        }
        titles.push_str(&format!("{title:<width$}"));
        let cols: Vec<String> = resources
            .iter()
            .zip(widths)
            .map(|(r, w)| format!("{r:>w$}"))
            .collect();
        names.push_str(&format!("{:<width$}", cols.join(" ")));
    }
    let mut out = vec![titles.trim_end().to_string(), names.trim_end().to_string()];
    for (p, process) in processes.iter().enumerate() {
        let mut line = format!("  {}  ", pad(process));
        for (g, (_, rows)) in groups.iter().enumerate() {
            let (widths, width) = &layout[g];
            if g > 0 {
                line.push_str(gap);
            }
            let cols: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(r, w)| match rows[p] {
                    Some(row) => format!("{:>w$}", row[r]),
                    None => format!("{:>w$}", "-"),
                })
                .collect();
            line.push_str(&format!("{:<width$}", cols.join(" ")));
        }
        out.push(line.trim_end().to_string());
    }
    out
}
