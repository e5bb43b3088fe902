//! Set-up shared by `grep` and `rg`, which both search and print with one
//! [`Grep`] run (its sink and output code live in `builtin/grep.rs`): the
//! output mode from the options, a new run with its two searchers, and the
//! type of an entry met in a directory walk when links are followed.

use std::sync::Arc;

use grep_matcher::LineTerminator;
use grep_searcher::SearcherBuilder;
use mirage_types::FileType;
use mirage_types::args::ParsedArgs;
use mirage_types::command::CommandCtx;

use crate::builtin::grep::{AnyMatcher, Cfg, Grep, Mode};

/// The longest line a streamed search holds (bytes); a longer one ends the
/// run with GNU's `memory exhausted`.
pub(crate) const STREAM_LINE_LIMIT: usize = 256 * 1024 * 1024;

impl Mode {
    /// The output mode from the options. GNU grep: `-q` over `-l`/`-L` (the
    /// last of the two given wins) over `-c` over `-o` (`only`) over plain
    /// lines. ripgrep 13 (`count_over_files`): the same, but `-c` wins over
    /// `-l`/`-L` (`rg -l -c` counts), and `only` is `-o` or `--vimgrep`.
    pub(crate) fn from_args(p: &ParsedArgs, only: bool, count_over_files: bool) -> Mode {
        if p.has("quiet") {
            return Mode::Quiet;
        }
        let count = p.has("count");
        let files = (p.has("files-with-matches") || p.has("files-without-match")).then(|| {
            if p.last_of(&["files-with-matches", "files-without-match"])
                == Some("files-without-match")
            {
                Mode::FilesWithout
            } else {
                Mode::FilesWith
            }
        });
        match files {
            Some(m) if !(count && count_over_files) => m,
            _ if count => Mode::Count,
            _ if only => Mode::Only,
            _ => Mode::Lines,
        }
    }
}

impl Grep {
    /// A run printing as `cfg` with `matcher`. Its searchers take lines
    /// ending in `cfg.eol`, invert, count line numbers and keep
    /// `after`/`before` lines of context (stopping after `cfg.max_count`
    /// matches) as `cfg` says; the one for streams holds at most
    /// [`STREAM_LINE_LIMIT`] bytes of a line. Everything else starts off:
    /// no globs, no recursion, no `-a`, paths shown by the caller's rule,
    /// stdin named `(standard input)`; set those with struct-update syntax.
    pub(crate) fn new(cfg: Cfg, matcher: AnyMatcher, after: usize, before: usize) -> Grep {
        let mut builder = SearcherBuilder::new();
        builder
            .line_terminator(LineTerminator::byte(cfg.eol))
            .invert_match(cfg.invert)
            .line_number(cfg.line_number)
            .after_context(if cfg.context { after } else { 0 })
            .before_context(if cfg.context { before } else { 0 })
            .max_matches(if cfg.context { cfg.max_count } else { None });
        let searcher = builder.build();
        let stream_searcher = builder.heap_limit(Some(STREAM_LINE_LIMIT)).build();
        Grep {
            null_data: cfg.eol == 0,
            cfg: Arc::new(cfg),
            matcher: Arc::new(matcher),
            searcher,
            stream_searcher,
            out: Vec::with_capacity(64 * 1024),
            quiet_errors: false,
            text: false,
            skip_binary: false,
            any_printed: false,
            selected: false,
            error: false,
            include: None,
            exclude: None,
            exclude_dir: None,
            recursive: false,
            deref: false,
            skip_dirs: false,
            with_filename: None,
            stdin_label: "(standard input)".to_string(),
        }
    }

    /// The type of the walked entry `abs` (shown as `display`) listed as
    /// `listed`: with `follow` (`grep -R`, `rg -L`) a link is its target's
    /// type, and a broken or looping link is reported as a file error and
    /// gives `None` (skip it). Without `follow` the listed type.
    pub(crate) async fn entry_type(
        &mut self,
        ctx: &mut CommandCtx,
        listed: FileType,
        follow: bool,
        display: &str,
        abs: &str,
    ) -> Option<FileType> {
        match listed {
            FileType::Symlink if follow => match ctx.vfs.stat(abs).await {
                Ok(s) => Some(s.file_type),
                Err(e) => {
                    self.file_error(ctx, display, e.message()).await;
                    None
                }
            },
            t => Some(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::grep::SPEC;
    use mirage_types::args::parse;

    fn mode(args: &[&str], only: bool, rg: bool) -> Mode {
        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
        let p = parse(&SPEC, &args).unwrap_or_else(|e| panic!("{e}"));
        Mode::from_args(&p, only, rg)
    }

    #[test]
    fn mode_precedence_is_gnu_greps_or_ripgreps() {
        assert!(mode(&["-c", "-l", "-q", "x"], false, false) == Mode::Quiet);
        assert!(mode(&["-L", "-l", "-c", "x"], false, false) == Mode::FilesWith);
        assert!(mode(&["-l", "-L", "x"], false, false) == Mode::FilesWithout);
        assert!(mode(&["-o", "-c", "x"], true, false) == Mode::Count);
        assert!(mode(&["-o", "x"], true, false) == Mode::Only);
        assert!(mode(&["x"], false, false) == Mode::Lines);
        // ripgrep 13: a count wins over -l/-L
        assert!(mode(&["-l", "-c", "x"], false, true) == Mode::Count);
        assert!(mode(&["-c", "-L", "x"], false, true) == Mode::Count);
        assert!(mode(&["-q", "-c", "x"], false, true) == Mode::Quiet);
        assert!(mode(&["-l", "-L", "x"], false, true) == Mode::FilesWithout);
    }
}
