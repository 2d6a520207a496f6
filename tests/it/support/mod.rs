//! The one harness every test module uses (as pueue's tests do): the
//! recorded data, values, the `ivcd` command, SQL probes, fake providers and
//! receivers on loopback, an SMTP server, a spawned daemon, and the shared
//! CVNA replay. A test module declares none of these for itself.

pub mod channels;
pub mod cmd;
pub mod daemon;
pub mod data;
pub mod db;
pub mod fakes;
pub mod prometheus;
pub mod replay;
pub mod smtp;
pub mod values;

pub use cmd::{config_file, ivcd, ivcd_config, ivcd_in_repo};
pub use data::{data_dir, read_data, repo};
pub use replay::{cvna, cvna_copy};
