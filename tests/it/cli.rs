//! The real binary on temporary directories: outputs, config files, errors.
