//! Loader rules of spec section 1.
