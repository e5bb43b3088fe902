//! `tsort`: a topological sort of pairs of tokens; behaviour as GNU
//! coreutils 9.1 `tsort`, original code.
//!
//! The order is the one GNU prints, worked out from its output: rounds of
//! a first-in first-out (Kahn) sort. Each round starts from the items not
//! yet printed that have no pending predecessor, in byte order of their
//! names; printing an item releases its successors, the most recently
//! read relation first, and a successor left with no predecessor joins the
//! end of the queue. When a round ends with items left, the input has a
//! loop: `tsort: FILE: input contains a loop:`, the loop's items on stderr
//! (see `Graph::break_cycle`), one of its relations is dropped, and the
//! next round starts. A loop or an odd number of tokens makes the status
//! 1. The whole input is held, as GNU does.

use std::collections::{BTreeMap, VecDeque};

use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::bytestr;
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd, read_input};

/// The spec of `tsort`: no options of its own.
pub static SPEC: CommandSpec = CommandSpec::new("tsort", &[], PathOperands::All);

crate::register_command!("tsort", SPEC, run);

/// The items and relations of one input.
struct Graph {
    /// Item names, by id (ids in order of first appearance).
    names: Vec<Vec<u8>>,
    /// Item ids sorted by the bytes of their names.
    sorted: Vec<usize>,
    /// Per item: how many relations still point at it.
    pending: Vec<usize>,
    /// Per item: the items it precedes, in input order (duplicates kept).
    after: Vec<Vec<usize>>,
    /// Per item: printed already.
    done: Vec<bool>,
}

impl Graph {
    /// The graph of `data`'s token pairs; `Err` for an odd count.
    fn parse(data: &[u8]) -> Result<Self, ()> {
        let mut ids: BTreeMap<&[u8], usize> = BTreeMap::new();
        let mut names: Vec<Vec<u8>> = Vec::new();
        let mut edges = Vec::new();
        let mut left: Option<usize> = None;
        let tokens = data
            .split(|b| matches!(b, b' ' | b'\t' | b'\n'))
            .filter(|t| !t.is_empty());
        for tok in tokens {
            let id = *ids.entry(tok).or_insert_with(|| {
                names.push(tok.to_vec());
                names.len() - 1
            });
            match left.take() {
                None => left = Some(id),
                Some(from) => edges.push((from, id)),
            }
        }
        if left.is_some() {
            return Err(());
        }
        let n = names.len();
        let sorted: Vec<usize> = ids.into_values().collect();
        let mut g = Graph {
            names,
            sorted,
            pending: vec![0; n],
            after: vec![Vec::new(); n],
            done: vec![false; n],
        };
        for (from, to) in edges {
            // `a a` names an item without ordering it
            if from != to {
                g.pending[to] += 1;
                g.after[from].push(to);
            }
        }
        Ok(g)
    }

    /// One round: prints (pushes to `out`) every item it can reach.
    fn drain(&mut self, out: &mut Vec<usize>) {
        let mut queue: VecDeque<usize> = self
            .sorted
            .iter()
            .copied()
            .filter(|&i| self.pending[i] == 0 && !self.done[i])
            .collect();
        while let Some(item) = queue.pop_front() {
            self.done[item] = true;
            out.push(item);
            for &next in self.after[item].iter().rev() {
                self.pending[next] -= 1;
                if self.pending[next] == 0 {
                    queue.push_back(next);
                }
            }
        }
    }

    /// Finds a loop among the items still pending, drops one relation of
    /// it and returns its items as GNU reports them, or `None` if none was
    /// found (which a well-formed graph never gives).
    ///
    /// The search, as GNU's output shows it: sweep the pending items in
    /// name order, again and again, growing a trail backwards. The first
    /// pending item starts the trail; an item that precedes the trail's
    /// newest member (by its most recent such relation) joins it. When an
    /// item that already joined (other than as the very first) precedes
    /// the newest member again, the trail from the newest member back to
    /// that item is the loop; that relation is the one dropped.
    fn break_cycle(&mut self) -> Option<Vec<usize>> {
        let n = self.names.len();
        let mut trail: Vec<usize> = Vec::new();
        let mut joined = vec![false; n];
        // every sweep that finds nothing grows the trail, and an item
        // joins at most twice: the bound only guards against spinning
        for _ in 0..n + 3 {
            for idx in 0..self.sorted.len() {
                let item = self.sorted[idx];
                if self.pending[item] == 0 {
                    continue;
                }
                let Some(&newest) = trail.last() else {
                    trail.push(item);
                    continue;
                };
                let Some(rel) = self.after[item].iter().rposition(|&x| x == newest) else {
                    continue;
                };
                if !joined[item] {
                    joined[item] = true;
                    trail.push(item);
                    continue;
                }
                let from = trail.iter().rposition(|&x| x == item).unwrap_or(0);
                let cycle: Vec<usize> = trail[from..].iter().rev().copied().collect();
                self.after[item].remove(rel);
                self.pending[newest] -= 1;
                return Some(cycle);
            }
            if trail.is_empty() {
                return None;
            }
        }
        None
    }

    /// The sorted item ids, and the loop reports, each with the number of
    /// items printed before it (`None` starts a loop).
    #[allow(clippy::type_complexity)]
    fn sort(&mut self) -> (Vec<usize>, Vec<(usize, Option<String>)>) {
        let mut out = Vec::with_capacity(self.names.len());
        let mut reports = Vec::new();
        loop {
            self.drain(&mut out);
            if out.len() >= self.names.len() {
                break;
            }
            reports.push((out.len(), None));
            let Some(cycle) = self.break_cycle() else {
                break;
            };
            let at = out.len();
            reports.extend(
                cycle
                    .into_iter()
                    .map(|i| (at, Some(bytestr::decode(&self.names[i]).into_owned()))),
            );
        }
        (out, reports)
    }
}

/// Writes the names of `ids`, one a line.
async fn write_names(ctx: &mut CommandCtx, g: &Graph, ids: &[usize]) -> Result<(), CmdError> {
    let mut out = Vec::new();
    for &i in ids {
        out.extend_from_slice(&g.names[i]);
        out.push(b'\n');
    }
    ctx.stdout.write(&out).await?;
    Ok(())
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    if p.operands.len() > 1 {
        return Err(CmdError::usage(format!(
            "extra operand {}",
            gnu_quote(&p.operands[1])
        )));
    }
    let file = p.operands.first().map_or("-", String::as_str).to_string();
    let data = read_input(ctx, &file)
        .await
        .map_err(|m| CmdError::new(1, m))?;
    let Ok(mut g) = Graph::parse(&data) else {
        return Err(CmdError::new(
            1,
            format!("{file}: input contains an odd number of tokens"),
        ));
    };
    let (order, reports) = g.sort();
    // stdout up to each loop report, then the report, as GNU prints them
    let mut done = 0;
    for (at, line) in &reports {
        write_names(ctx, &g, &order[done..*at]).await?;
        done = *at;
        match line {
            None => ctx.error(format!("{file}: input contains a loop:")).await,
            Some(name) => ctx.error(name).await,
        }
    }
    write_names(ctx, &g, &order[done..]).await?;
    let status = i32::from(!reports.is_empty());
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::Graph;

    fn names(input: &str) -> (Vec<String>, Vec<Option<String>>) {
        let mut g = Graph::parse(input.as_bytes()).unwrap();
        let (order, reports) = g.sort();
        (
            order
                .iter()
                .map(|&i| String::from_utf8(g.names[i].clone()).unwrap())
                .collect(),
            reports.into_iter().map(|r| r.1).collect(),
        )
    }

    #[test]
    fn order_and_loops_as_gnu() {
        assert_eq!(names("a b b c\n").0, ["a", "b", "c"]);
        assert_eq!(names("c a c b\n").0, ["c", "b", "a"]);
        let (o, r) = names("a b b a\n");
        assert_eq!(o, ["a", "b"]);
        assert_eq!(r, [None, Some("a".into()), Some("b".into())]);
        assert!(Graph::parse(b"a b c").is_err());
        // two loops, one relation dropped at a time (as GNU tsort 9.1)
        let (o, r) = names("1 2 2 3 3 1 3 4 4 2 5 5\n");
        assert_eq!(o, ["5", "4", "1", "2", "3"]);
        let r: Vec<_> = r.into_iter().map(Option::unwrap_or_default).collect();
        assert_eq!(r, ["", "4", "2", "3", "", "1", "2", "3"]);
    }
}
