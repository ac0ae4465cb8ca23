//! Text encodings of ids and timestamps: shared with the other backend (see `crate::decode`).
pub use crate::decode::{
    get_id, get_opt_id, get_opt_ts, get_ts, id, id_array, opt_id, opt_ts, parse_text_ts, ts,
};
