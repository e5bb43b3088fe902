//! Mirage commands, the gestures of seed 001.
//!
//! Every command is one module under [`builtin`] that registers a
//! [`CommandRegistration`] with [`register_command!`]; the [`registry`]
//! resolves a name in seed 001's order: `(name, resource, filetype)`, then
//! `(name, resource)`, then the general `(name)`. General handlers read
//! through the [`mirage_types::Vfs`] router, so one handler serves paths on
//! any number of mounts and cross-mount aggregation (`cat /a/x /b/y`,
//! `wc` totals, `grep` prefixes) comes out exactly as GNU prints it.
#![deny(missing_docs)]

pub mod builtin;
pub mod filetype;
pub mod fixed_set;
pub mod registry;
mod search_setup;
pub mod util;

pub use mirage_types::command::{CommandCtx, CommandRegistration};
pub use registry::{command_names, resolve};

#[doc(hidden)]
pub use inventory as __inventory;
#[doc(hidden)]
pub use mirage_types::command::Effect as __Effect;

/// Registers a general command: `register_command!(NAME, SPEC, HANDLER)`,
/// or with `write` as a fourth argument for commands that change files.
/// `HANDLER` is `fn(&mut CommandCtx) -> CommandFuture<'_>`.
#[macro_export]
macro_rules! register_command {
    ($name:expr, $spec:expr, $handler:expr) => {
        $crate::register_command!($name, $spec, $handler, false);
    };
    ($name:expr, $spec:expr, $handler:expr, $write:expr) => {
        $crate::__inventory::submit! {
            $crate::CommandRegistration {
                name: $name,
                resource: None,
                filetype: None,
                spec: &$spec,
                effect: $crate::__Effect::from_write($write),
                handler: $handler,
            }
        }
    };
}
