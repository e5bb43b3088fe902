//! `tsort`: a topological sort of pairs of tokens, as GNU coreutils 9.1.
//!
//! GNU's algorithm (Knuth's T) is followed step by step so the order is
//! GNU's: the items sit in a tree ordered by bytes; each round queues the
//! items with no predecessor in that order, prints the queue while
//! releasing successors (each item's successors newest first); when items
//! remain, the input has a loop: `tsort: FILE: input contains a loop:`,
//! the loop's items on stderr, one relation removed, and the next round.
//! A loop or an odd number of tokens makes the status 1. The whole input
//! is held, as GNU does.

use std::collections::BTreeMap;

use mirage_types::args::{CommandSpec, PathOperands};
use mirage_types::bytestr;
use mirage_types::command::{CmdError, CommandCtx};

use crate::util::{gnu_quote, parse_cmd, read_input};

/// The spec of `tsort`: no options of its own.
pub static SPEC: CommandSpec = CommandSpec::new("tsort", &[], PathOperands::All);

crate::register_command!("tsort", SPEC, run);

/// The graph, as GNU's `struct item`s.
struct Graph {
    names: Vec<Vec<u8>>,
    /// Item ids in byte order of their names (the tree's in-order walk).
    order: Vec<usize>,
    count: Vec<usize>,
    /// Successors, oldest first (GNU's list is newest first).
    top: Vec<Vec<usize>>,
    qlink: Vec<Option<usize>>,
    printed: Vec<bool>,
}

impl Graph {
    /// The graph of `data`'s token pairs; `Err` for an odd count.
    fn parse<'a>(data: &'a [u8]) -> Result<Self, ()> {
        let mut ids: BTreeMap<&[u8], usize> = BTreeMap::new();
        let mut names: Vec<Vec<u8>> = Vec::new();
        let tokens: Vec<&[u8]> = data
            .split(|b| matches!(b, b' ' | b'\t' | b'\n'))
            .filter(|t| !t.is_empty())
            .collect();
        let mut pairs = Vec::with_capacity(tokens.len() / 2);
        for pair in tokens.chunks(2) {
            let mut id = |t: &'a [u8]| -> usize {
                *ids.entry(t).or_insert_with(|| {
                    names.push(t.to_vec());
                    names.len() - 1
                })
            };
            let a = id(pair[0]);
            if pair.len() < 2 {
                return Err(());
            }
            let b = id(pair[1]);
            pairs.push((a, b));
        }
        let n = names.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| names[a].cmp(&names[b]));
        let mut g = Graph {
            names,
            order,
            count: vec![0; n],
            top: vec![Vec::new(); n],
            qlink: vec![None; n],
            printed: vec![false; n],
        };
        for (a, b) in pairs {
            if a != b {
                g.count[b] += 1;
                g.top[a].push(b);
            }
        }
        Ok(g)
    }

    /// GNU's `detect_loop` over the walk; whether a loop was found and
    /// broken. `lp` is the walk's `loop` variable.
    fn detect_loop(&mut self, lp: &mut Option<usize>, err: &mut Vec<String>) -> bool {
        for oi in 0..self.order.len() {
            let k = self.order[oi];
            if self.count[k] == 0 {
                continue;
            }
            let Some(start) = *lp else {
                *lp = Some(k);
                continue;
            };
            // successors newest first
            let succ = &self.top[k];
            let Some(pos) = (0..succ.len()).rev().find(|&i| succ[i] == start) else {
                continue;
            };
            if self.qlink[k].is_some() {
                while let Some(l) = *lp {
                    let tmp = self.qlink[l];
                    err.push(bytestr::decode(&self.names[l]).into_owned());
                    if l == k {
                        let s = self.top[k].remove(pos);
                        self.count[s] -= 1;
                        break;
                    }
                    self.qlink[l] = None;
                    *lp = tmp;
                }
                while let Some(l) = *lp {
                    let tmp = self.qlink[l];
                    self.qlink[l] = None;
                    *lp = tmp;
                }
                return true;
            }
            self.qlink[k] = *lp;
            *lp = Some(k);
        }
        false
    }

    /// The sorted item ids, and the loop reports, each with the number of
    /// items printed before it (`None` starts a loop).
    #[allow(clippy::type_complexity)]
    fn sort(&mut self) -> (Vec<usize>, Vec<(usize, Option<String>)>) {
        let mut out = Vec::with_capacity(self.names.len());
        let mut reports = Vec::new();
        let mut left = self.names.len();
        while left > 0 {
            let mut head = None;
            let mut zeros = None;
            for oi in 0..self.order.len() {
                let k = self.order[oi];
                if self.count[k] == 0 && !self.printed[k] {
                    match zeros {
                        None => head = Some(k),
                        Some(z) => self.qlink[z] = Some(k),
                    }
                    zeros = Some(k);
                }
            }
            while let Some(h) = head {
                out.push(h);
                self.printed[h] = true;
                left -= 1;
                for i in (0..self.top[h].len()).rev() {
                    let s = self.top[h][i];
                    self.count[s] -= 1;
                    if self.count[s] == 0 {
                        if let Some(z) = zeros {
                            self.qlink[z] = Some(s);
                        }
                        zeros = Some(s);
                    }
                }
                head = self.qlink[h];
            }
            if left > 0 {
                reports.push((out.len(), None));
                let mut lp = None;
                let mut err = Vec::new();
                // each pass either finds the loop or moves `lp` along it;
                // bounded, so no input can spin forever
                let mut passes = 0usize;
                while !self.detect_loop(&mut lp, &mut err) && lp.is_some() {
                    passes += 1;
                    if passes > self.names.len() + 2 {
                        break;
                    }
                }
                if err.is_empty() {
                    // no relation could be removed: stop rather than spin
                    break;
                }
                let at = out.len();
                reports.extend(err.into_iter().map(|e| (at, Some(e))));
            }
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
    }
}
