//! GNU-style option parsing from a [`CommandSpec`] (as glibc `getopt_long`).
//!
//! Short options cluster (`-rn`), a short option's value may be attached
//! (`-n5`) or separate (`-n 5`), long options take `--name=value` or
//! `--name value` and may be abbreviated to a unique prefix, options and
//! operands may be mixed (permutation), `--` ends options and `-` is an
//! operand.
//!
//! Every spec also has GNU's standard `--help` and `--version` (parsed under
//! the keys [`HELP_KEY`] and [`VERSION_KEY`] unless the spec defines its own
//! options by those names); [`help_text`] renders the help from the spec.

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// A flag (`-n`).
    Flag,
    /// A required value (`-n 5`, `--lines=5`).
    Required,
    /// A value only in the attached form (`--color=auto`, `-i.bak`).
    Optional,
}

/// One option of a command.
#[derive(Debug, Clone, Copy)]
pub struct OptSpec {
    /// The key the parsed value is stored under (`"lines"`).
    pub key: &'static str,
    /// The short letter, if any.
    pub short: Option<char>,
    /// The long name without dashes, if any.
    pub long: Option<&'static str>,
    /// Whether it takes a value.
    pub arity: Arity,
}

impl OptSpec {
    /// A flag with a short and/or long name.
    pub const fn flag(key: &'static str, short: Option<char>, long: Option<&'static str>) -> Self {
        OptSpec {
            key,
            short,
            long,
            arity: Arity::Flag,
        }
    }
    /// An option with a required value.
    pub const fn value(key: &'static str, short: Option<char>, long: Option<&'static str>) -> Self {
        OptSpec {
            key,
            short,
            long,
            arity: Arity::Required,
        }
    }
    /// An option whose value is optional (attached only).
    pub const fn optional(
        key: &'static str,
        short: Option<char>,
        long: Option<&'static str>,
    ) -> Self {
        OptSpec {
            key,
            short,
            long,
            arity: Arity::Optional,
        }
    }
}

/// The key under which a standard `--help` is parsed.
pub const HELP_KEY: &str = "help";
/// The key under which a standard `--version` is parsed.
pub const VERSION_KEY: &str = "version";
/// GNU's standard long options every command has (`--help`, `--version`).
const STANDARD: [OptSpec; 2] = [
    OptSpec::flag(HELP_KEY, None, Some("help")),
    OptSpec::flag(VERSION_KEY, None, Some("version")),
];

/// The long options of `spec` plus the standard ones it does not define.
fn long_options(spec: &CommandSpec) -> impl Iterator<Item = &OptSpec> {
    spec.options.iter().chain(
        STANDARD
            .iter()
            .filter(|s| !spec.options.iter().any(|o| o.long == s.long)),
    )
}

/// Which standard option, `--help` or `--version`, `args` asks for first
/// (as getopt meets it), if parsing by `spec` succeeds and the command does
/// not define that option itself; the caller prints [`help_text`] or
/// [`version_text`] and exits 0, as GNU tools do.
pub fn standard_request(spec: &CommandSpec, args: &[String]) -> Option<&'static str> {
    let parsed = parse(spec, args).ok()?;
    parsed.opts.iter().map(|(k, _)| *k).find(|k| {
        (*k == HELP_KEY || *k == VERSION_KEY)
            && !spec
                .options
                .iter()
                .any(|o| o.key == *k && o.long == Some(k))
    })
}

/// The `--help` text of `spec`: GNU's layout (`Usage:` line, one line per
/// option with its short and long names and value, then `--help` and
/// `--version`), generated from the spec since Mirage keeps no per-command
/// prose.
pub fn help_text(spec: &CommandSpec) -> String {
    let operands = match spec.paths {
        PathOperands::None => "[ARG]...",
        _ => "[FILE]...",
    };
    let mut out = format!("Usage: {} [OPTION]... {operands}\n", spec.name);
    if !spec.options.is_empty() {
        out.push_str("\nOptions:\n");
    }
    let value = |o: &OptSpec| match o.arity {
        Arity::Flag => String::new(),
        Arity::Required => format!("={}", o.key.to_uppercase()),
        Arity::Optional => format!("[={}]", o.key.to_uppercase()),
    };
    for o in spec.options {
        let short = o.short.map_or("    ".to_string(), |c| {
            if o.long.is_some() {
                format!("-{c}, ")
            } else {
                format!("-{c}")
            }
        });
        let long = o
            .long
            .map_or(String::new(), |l| format!("--{l}{}", value(o)));
        let shown = if o.long.is_none() && o.arity != Arity::Flag {
            format!("{short} {}", o.key.to_uppercase())
        } else {
            format!("{short}{long}")
        };
        out.push_str(&format!("  {shown}\n"));
    }
    out.push_str("      --help        display this help and exit\n");
    out.push_str("      --version     output version information and exit\n");
    out
}

/// The `--version` text: `NAME (Mirage) VERSION`.
pub fn version_text(spec: &CommandSpec) -> String {
    format!("{} (Mirage) {}\n", spec.name, env!("CARGO_PKG_VERSION"))
}

/// Which operands are paths (for dispatch by resource and filetype).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathOperands {
    /// Every operand is a path (`cat`).
    All,
    /// The first operand is text and the rest are paths (`grep PATTERN FILE…`).
    SkipFirst,
    /// As [`PathOperands::SkipFirst`], unless one of these option keys was
    /// given: then every operand is a path (`grep -e PATTERN FILE…` and
    /// `grep -f FILE FILE…` take no pattern operand).
    SkipFirstUnless(&'static [&'static str]),
    /// No operand is a path (`seq`, `echo`).
    None,
}

impl PathOperands {
    /// The operands of `parsed` that are paths, in order (`-`, standard
    /// input, included).
    pub fn select(self, parsed: &ParsedArgs) -> &[String] {
        let skip = match self {
            PathOperands::None => return &[],
            PathOperands::All => 0,
            PathOperands::SkipFirst => 1,
            PathOperands::SkipFirstUnless(keys) => usize::from(!keys.iter().any(|k| parsed.has(k))),
        };
        parsed.operands.get(skip..).unwrap_or_default()
    }
}

/// The options and operands of a command (seed 001's `CommandSpec`).
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// The command name.
    pub name: &'static str,
    /// Its options.
    pub options: &'static [OptSpec],
    /// Which operands are paths.
    pub paths: PathOperands,
    /// The key under which `-NUM` is stored (`head -5`), if the command has that form.
    pub numeric_key: Option<&'static str>,
    /// Stop at the first operand (no permutation), as `env`, `xargs` or `find`.
    pub stop_at_operand: bool,
    /// The exit status for a usage error (1 for coreutils, 2 for grep, diff, …).
    pub usage_status: i32,
}

impl CommandSpec {
    /// A spec with permutation, no `-NUM` form and usage status 1.
    pub const fn new(name: &'static str, options: &'static [OptSpec], paths: PathOperands) -> Self {
        CommandSpec {
            name,
            options,
            paths,
            numeric_key: None,
            stop_at_operand: false,
            usage_status: 1,
        }
    }
}

/// The parsed command line: options in the order given, then operands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedArgs {
    /// `(key, value)` for each option occurrence, in order.
    pub opts: Vec<(&'static str, Option<String>)>,
    /// The operands, in order.
    pub operands: Vec<String>,
}

impl ParsedArgs {
    /// Whether option `key` was given.
    pub fn has(&self, key: &str) -> bool {
        self.opts.iter().any(|(k, _)| *k == key)
    }
    /// How many times option `key` was given.
    pub fn count(&self, key: &str) -> usize {
        self.opts.iter().filter(|(k, _)| *k == key).count()
    }
    /// The last value of option `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.opts
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_deref())
    }
    /// Every value of option `key`, in order.
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.opts
            .iter()
            .filter(|(k, _)| *k == key)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
    /// The index among all options of the last occurrence of any of `keys`
    /// (to let the last of two conflicting flags win).
    pub fn last_of(&self, keys: &[&str]) -> Option<&'static str> {
        self.opts
            .iter()
            .rev()
            .find(|(k, _)| keys.contains(k))
            .map(|(k, _)| *k)
    }
}

/// Parses `args` by `spec`. The error is the GNU diagnostic without the
/// command name, e.g. `invalid option -- 'z'` or
/// `option requires an argument -- 'n'`.
pub fn parse(spec: &CommandSpec, args: &[String]) -> Result<ParsedArgs, String> {
    let mut out = ParsedArgs::default();
    let mut i = 0;
    let mut only_operands = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_operands || a == "-" || !a.starts_with('-') {
            out.operands.push(a.clone());
            if spec.stop_at_operand {
                only_operands = true;
            }
            continue;
        }
        if a == "--" {
            only_operands = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let exact = long_options(spec).find(|o| o.long == Some(name));
            let opt = match exact {
                Some(o) => o,
                None => {
                    let cands: Vec<&OptSpec> = long_options(spec)
                        .filter(|o| o.long.is_some_and(|l| l.starts_with(name)))
                        .collect();
                    match cands.len() {
                        1 => cands[0],
                        0 => return Err(format!("unrecognized option '--{name}'")),
                        _ => return Err(format!("option '--{name}' is ambiguous")),
                    }
                }
            };
            let lname = opt.long.unwrap_or(name);
            match opt.arity {
                Arity::Flag => {
                    if attached.is_some() {
                        return Err(format!("option '--{lname}' doesn't allow an argument"));
                    }
                    out.opts.push((opt.key, None));
                }
                Arity::Optional => out.opts.push((opt.key, attached)),
                Arity::Required => {
                    let v = match attached {
                        Some(v) => v,
                        None if i < args.len() => {
                            i += 1;
                            args[i - 1].clone()
                        }
                        None => return Err(format!("option '--{lname}' requires an argument")),
                    };
                    out.opts.push((opt.key, Some(v)));
                }
            }
            continue;
        }
        // short cluster
        let body = &a[1..];
        if let Some(key) = spec.numeric_key
            && body.bytes().all(|b| b.is_ascii_digit())
        {
            out.opts.push((key, Some(body.to_string())));
            continue;
        }
        let chars: Vec<(usize, char)> = body.char_indices().collect();
        let mut j = 0;
        while j < chars.len() {
            let (pos, c) = chars[j];
            j += 1;
            let Some(opt) = spec.options.iter().find(|o| o.short == Some(c)) else {
                return Err(format!("invalid option -- '{c}'"));
            };
            match opt.arity {
                Arity::Flag => out.opts.push((opt.key, None)),
                Arity::Optional => {
                    let rest = &body[pos + c.len_utf8()..];
                    out.opts.push((
                        opt.key,
                        if rest.is_empty() {
                            None
                        } else {
                            Some(rest.to_string())
                        },
                    ));
                    break;
                }
                Arity::Required => {
                    let rest = &body[pos + c.len_utf8()..];
                    let v = if !rest.is_empty() {
                        rest.to_string()
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Err(format!("option requires an argument -- '{c}'"));
                    };
                    out.opts.push((opt.key, Some(v)));
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: &[OptSpec] = &[
        OptSpec::flag("recursive", Some('r'), Some("recursive")),
        OptSpec::flag("number", Some('n'), Some("line-number")),
        OptSpec::value("regexp", Some('e'), Some("regexp")),
        OptSpec::flag("count", Some('c'), Some("count")),
    ];
    const SPEC: CommandSpec = CommandSpec::new("grep", OPTS, PathOperands::SkipFirst);

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn clusters_permutation_and_values() {
        let p = parse(
            &SPEC,
            &v(&["-rn", "foo", "dir", "-efoo", "--count", "--", "-x"]),
        )
        .unwrap();
        assert!(p.has("recursive") && p.has("number") && p.has("count"));
        assert_eq!(p.value("regexp"), Some("foo"));
        assert_eq!(p.operands, v(&["foo", "dir", "-x"]));
    }

    #[test]
    fn path_operands_after_pattern_options() {
        let p = parse(&SPEC, &v(&["-e", "x", "/s3/f", "/s3/g"])).unwrap();
        assert_eq!(PathOperands::SkipFirst.select(&p), v(&["/s3/g"]));
        let unless = PathOperands::SkipFirstUnless(&["regexp", "file"]);
        assert_eq!(unless.select(&p), v(&["/s3/f", "/s3/g"]));
        let p = parse(&SPEC, &v(&["-n", "x", "/s3/f"])).unwrap();
        assert_eq!(unless.select(&p), v(&["/s3/f"]));
        assert_eq!(PathOperands::All.select(&p), v(&["x", "/s3/f"]));
        assert!(PathOperands::None.select(&p).is_empty());
        let p = parse(&SPEC, &v(&["x"])).unwrap();
        assert!(unless.select(&p).is_empty());
    }

    #[test]
    fn gnu_errors() {
        assert_eq!(
            parse(&SPEC, &v(&["-z"])).unwrap_err(),
            "invalid option -- 'z'"
        );
        assert_eq!(
            parse(&SPEC, &v(&["-e"])).unwrap_err(),
            "option requires an argument -- 'e'"
        );
        assert_eq!(
            parse(&SPEC, &v(&["--bogus"])).unwrap_err(),
            "unrecognized option '--bogus'"
        );
        assert_eq!(parse(&SPEC, &v(&["--line"])).unwrap().count("number"), 1);
    }
}

#[cfg(test)]
mod standard_tests {
    use super::*;

    const OPTS: &[OptSpec] = &[
        OptSpec::flag("number", Some('n'), Some("number")),
        OptSpec::value("lines", Some('l'), Some("lines")),
    ];
    const SPEC: CommandSpec = CommandSpec::new("demo", OPTS, PathOperands::All);

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn help_and_version_are_found_as_getopt_meets_them() {
        assert_eq!(standard_request(&SPEC, &v(&["--help"])), Some(HELP_KEY));
        assert_eq!(standard_request(&SPEC, &v(&["f", "--he"])), Some(HELP_KEY));
        assert_eq!(
            standard_request(&SPEC, &v(&["--version", "--help"])),
            Some(VERSION_KEY)
        );
        // a value, an operand after `--`, and an earlier bad option are not requests
        assert_eq!(standard_request(&SPEC, &v(&["-l", "--help"])), None);
        assert_eq!(standard_request(&SPEC, &v(&["--", "--help"])), None);
        assert_eq!(standard_request(&SPEC, &v(&["-z", "--help"])), None);
        assert_eq!(standard_request(&SPEC, &v(&["-n", "f"])), None);
        // `--n` is ambiguous only among the command's own options
        assert!(parse(&SPEC, &v(&["--nu"])).is_ok());
        let stop = CommandSpec {
            stop_at_operand: true,
            ..SPEC
        };
        assert_eq!(standard_request(&stop, &v(&["cmd", "--help"])), None);
    }

    #[test]
    fn help_text_lists_every_option() {
        let t = help_text(&SPEC);
        assert!(t.starts_with("Usage: demo [OPTION]... [FILE]...\n"));
        assert!(t.contains("  -n, --number\n"));
        assert!(t.contains("  -l, --lines=LINES\n"));
        assert!(t.ends_with("--version     output version information and exit\n"));
        assert_eq!(
            version_text(&SPEC),
            format!("demo (Mirage) {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}
