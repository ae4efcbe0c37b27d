import { opt } from '@pipeline/core';

/** Logstash's `file` output options, plus `max_open_files`. */
export const fileOutputOptions = {
  path: opt.string({
    required: true,
    description:
      'File to write, a sprintf template (`%{host}`, `%{[a][b]}`, `%{+yyyy.MM.dd}`). Relative paths resolve against the working directory. The directory part before the first `%{` is the root no rendered path may leave.',
  }),
  flush_interval: opt.number({
    default: 2,
    description:
      'Seconds between flushes of buffered lines to disk; 0 writes at the end of every batch. A batch is acknowledged (the persisted queue lets it go) only once its lines are written.',
  }),
  fsync: opt.string({
    default: 'none',
    values: ['none', 'batch', 'interval'],
    description:
      'Power-loss safety: `none` leaves lines to the OS page cache (safe from a crash of the process, not of the machine); `batch` fdatasyncs each write before its batches are acknowledged; `interval` fsyncs written files every `flush_interval` (1 s if that is 0) without holding acknowledgements.',
  }),
  on_write_failure: opt.string({
    default: 'retry',
    values: ['retry', 'drop'],
    description:
      '`retry` keeps the lines of a failed write (disk full, I/O error) and retries with back-off (0.1 s doubling to 2 s) while the pipeline waits; `drop` retries 3 times (0.1, 0.5, 1 s), then drops them (`events_dropped`) and goes on.',
  }),
  gzip: opt.bool({ default: false, description: 'Gzip the output: every flush appends one gzip member (the file stays readable by gunzip/zcat).' }),
  create_if_deleted: opt.bool({
    default: true,
    description: 'Create a file that does not exist (or was deleted/rotated away); when false, its events go to `filename_failure`.',
  }),
  dir_mode: opt.any({ default: -1, description: 'Mode of created directories, octal as written (`0750` or `"0750"`); -1 leaves it to the umask.' }),
  file_mode: opt.any({ default: -1, description: 'Mode of created files, octal as written (`0640`); -1 leaves it to the umask.' }),
  filename_failure: opt.string({
    default: '_filepath_failures',
    description: 'File name, inside the root, that receives events whose rendered path is invalid (leaves the root, holds a NUL).',
  }),
  write_behavior: opt.string({
    default: 'append',
    values: ['append', 'overwrite'],
    description: '`append` adds lines at the end; `overwrite` truncates the file and keeps only the latest event of each flush.',
  }),
  stale_cleanup_interval: opt.number({ default: 10, description: 'Seconds between closes of files not written to since the previous cleanup.' }),
  max_open_files: opt.number({ default: 512, description: 'Most files kept open at once; the least recently written is closed first.' }),
};
