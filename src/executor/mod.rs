//! Where phases run: `local` (every phase in this process, pipeline::run) or `slurm` (the
//! extraction as a Slurm job array over hash partitions, the global phases as one job after it).
pub mod slurm;
pub mod status;
