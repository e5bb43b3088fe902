//! The general commands, one module per command. Each registers itself.

pub mod basename;
pub mod cat;
pub mod cp;
pub mod cut;
pub mod dirname;
pub mod env;
pub mod find;
pub mod grep;
pub mod head;
pub mod ls;
pub mod mkdir;
pub mod mv;
pub mod printenv;
pub mod rm;
pub mod rmdir;
pub mod seq;
pub mod sleep;
pub mod sort;
pub mod tail;
pub mod tee;
pub mod timeout;
pub mod touch;
pub mod tr;
pub mod uniq;
pub mod wc;
pub mod xargs;
