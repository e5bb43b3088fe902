//! `factor`: print the prime factors of numbers, as GNU coreutils 9.1
//! `factor`: each operand (or each whitespace-separated word of standard
//! input when there is none, read line by line as a stream) as `N: P P …`, smallest first, of any size
//! (GNU uses GMP; this uses `num-bigint` with trial division, a
//! Miller-Rabin test and Pollard's rho). A word that is not a positive
//! decimal integer (an optional `+`, leading blanks allowed) gives
//! `‘WORD’ is not a valid positive integer` and status 1; `0` and `1`
//! print no factors. A number with two large prime factors (each over
//! about 10^12) is slow: Pollard's rho on bignums, not GMP's ECM.

use mirage_types::args::{CommandSpec, OptSpec, PathOperands};
use mirage_types::command::{CmdError, CommandCtx};
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, Zero};

use crate::util::{RecordReader, gnu_quote, parse_cmd};

const OPTS: &[OptSpec] = &[OptSpec::flag("exponents", Some('h'), Some("exponents"))];

/// The spec of `factor`.
pub static SPEC: CommandSpec = CommandSpec::new("factor", OPTS, PathOperands::None);

crate::register_command!("factor", SPEC, run);

fn is_probable_prime(n: &BigUint) -> bool {
    let two = BigUint::from(2u32);
    if *n < two {
        return false;
    }
    for p in [2u32, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        if *n == BigUint::from(p) {
            return true;
        }
        if (n % p).is_zero() {
            return false;
        }
    }
    let one = BigUint::one();
    let nm1 = n - &one;
    let mut d = nm1.clone();
    let mut s = 0;
    while d.is_even() {
        d >>= 1;
        s += 1;
    }
    'witness: for a in [2u32, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41] {
        let mut x = BigUint::from(a).modpow(&d, n);
        if x == one || x == nm1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == nm1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

/// A non-trivial divisor of the composite `n` (Pollard's rho, Brent).
fn rho(n: &BigUint) -> BigUint {
    let one = BigUint::one();
    let mut c = BigUint::one();
    loop {
        let f = |x: &BigUint| (x * x + &c) % n;
        let mut x = BigUint::from(2u32);
        let mut y = x.clone();
        let mut d = one.clone();
        while d == one {
            x = f(&x);
            y = f(&f(&y));
            let diff = if x > y { &x - &y } else { &y - &x };
            d = diff.gcd(n);
        }
        if d != *n {
            return d;
        }
        c += 1u32;
    }
}

/// The prime factors of `n`, smallest first.
fn factors(n: &BigUint) -> Vec<BigUint> {
    let mut out = Vec::new();
    let mut n = n.clone();
    if n <= BigUint::one() {
        return out;
    }
    for p in 2u32..1000 {
        while (&n % p).is_zero() {
            out.push(BigUint::from(p));
            n /= p;
        }
    }
    let mut stack = vec![n];
    while let Some(m) = stack.pop() {
        if m <= BigUint::one() {
            continue;
        }
        if is_probable_prime(&m) {
            out.push(m);
            continue;
        }
        // a perfect square defeats rho's cycle; take its root
        let r = m.sqrt();
        if &r * &r == m {
            stack.push(r.clone());
            stack.push(r);
            continue;
        }
        let d = rho(&m);
        stack.push(&m / &d);
        stack.push(d);
    }
    out.sort();
    out
}

/// The output line for a word, or `None` when it is not a number.
fn line(word: &str, exponents: bool) -> Option<String> {
    let t = word.trim_start();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: BigUint = t.parse().ok()?;
    let mut s = format!("{n}:");
    let fs = factors(&n);
    let mut i = 0;
    while i < fs.len() {
        let mut j = i;
        while j < fs.len() && fs[j] == fs[i] {
            j += 1;
        }
        if exponents && j - i > 1 {
            s.push_str(&format!(" {}^{}", fs[i], j - i));
        } else {
            for f in &fs[i..j] {
                s.push_str(&format!(" {f}"));
            }
        }
        i = j;
    }
    s.push('\n');
    Some(s)
}

/// Factors one word: its line on stdout, or GNU's message and status 1.
async fn one(ctx: &mut CommandCtx, w: &str, exponents: bool) -> Result<i32, CmdError> {
    match line(w, exponents) {
        Some(l) => {
            ctx.stdout.write_str(&l).await?;
            Ok(0)
        }
        None => {
            ctx.error(format!("{} is not a valid positive integer", gnu_quote(w)))
                .await;
            Ok(1)
        }
    }
}

mirage_types::command_handler!(fn run = body);

async fn body(ctx: &mut CommandCtx) -> Result<i32, CmdError> {
    let p = parse_cmd(ctx, &SPEC)?;
    let exponents = p.has("exponents");
    let mut status = 0;
    if !p.operands.is_empty() {
        for w in &p.operands {
            status |= one(ctx, w, exponents).await?;
        }
        return Ok(status);
    }
    // standard input streams, a line at a time
    let stdin = std::mem::replace(&mut ctx.stdin, mirage_types::Input::empty());
    let mut reader = RecordReader::new(stdin.into_source(), b'\n');
    loop {
        let rec = match reader.next_record().await {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(CmdError::new(1, e.message())),
        };
        let line = mirage_types::bytestr::decode(&rec).into_owned();
        for w in line.split_whitespace() {
            status |= one(ctx, w, exponents).await?;
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn factors_small_and_big() {
        assert_eq!(line("360", false).unwrap(), "360: 2 2 2 3 3 5\n");
        assert_eq!(line("1", false).unwrap(), "1:\n");
        assert_eq!(line("360", true).unwrap(), "360: 2^3 3^2 5\n");
        assert_eq!(
            line("18446744073709551617", false).unwrap(),
            "18446744073709551617: 274177 67280421310721\n"
        );
        assert!(line("abc", false).is_none());
        assert!(line("", false).is_none());
    }
}
