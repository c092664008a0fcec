//! What the programs of this lab share, like the seed's `cmd.hpp`: the layout
//! of each shared segment and the semaphores that say whose turn it is.

pub mod blocks;
pub mod chat;
