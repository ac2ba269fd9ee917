# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_oxiborg_global_optspecs
    string join \n critical error warning v/info debug log-json show-version show-rc umask= p/progress lock-wait= remote-path= rsh= upload-ratelimit= upload-buffer= V/version h/help
end

function __fish_oxiborg_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_oxiborg_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_oxiborg_using_subcommand
    set -l cmd (__fish_oxiborg_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c oxiborg -n "__fish_oxiborg_needs_command" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -s V -l version -d 'Print the borg version oxiborg is compatible with (`<prog> 1.4.5`) and exit'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "benchmark" -d 'Benchmark command'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "init" -d 'Initialize an empty repository'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "check" -d 'Verify repository'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "compact" -d 'Compact segment files in the repository'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "break-lock" -d 'Break the repository lock (e.g. in case it was left by a dead borg)'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "with-lock" -d 'Run a user command with the repository lock held'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "create" -d 'Create new archive'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "extract" -d 'Extract archive contents'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "list" -d 'List archive or repository contents'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "info" -d 'Show archive details such as disk space used'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "delete" -d 'Delete an existing repository or archives'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "rename" -d 'Rename an existing archive'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "recreate" -d 'Re-create archives'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "version" -d 'Display the borg client / borg server version'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "prune" -d 'Prune repository archives according to rules'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "diff" -d 'Find differences in archive contents'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "export-tar" -d 'Create tarball from archive'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "import-tar" -d 'Create a backup archive from a tarball'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "key" -d 'Manage a keyfile or repokey of a repository'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "config" -d 'Get, set, and delete values in a repository or cache config file'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "serve" -d 'Start repository server process'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "debug" -d 'Create a backup (not implemented yet). Debugging command (not implemented yet)'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "mount" -d 'Delete archives or a repository (not implemented yet). Extract archive contents (not implemented yet). Show archive details such as disk space used (not implemented yet). List archive or repository contents (not implemented yet). Mount an archive or repository as a FUSE filesystem (not implemented yet)'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "umount" -d 'Rename an archive (not implemented yet). Unmount a FUSE filesystem (not implemented yet)'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "upgrade" -d 'Upgrade a repository from a previous version (not implemented yet)'
complete -c oxiborg -n "__fish_oxiborg_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -f -a "cpu" -d 'Benchmarks CPU bound operations (chunkers, hashes, MACs, encryption, compression, msgpack)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -f -a "crud" -d 'Benchmarks borg CRUD (create, extract, update, delete)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and not __fish_seen_subcommand_from cpu crud help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from cpu" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from crud" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from help" -f -a "cpu" -d 'Benchmarks CPU bound operations (chunkers, hashes, MACs, encryption, compression, msgpack)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from help" -f -a "crud" -d 'Benchmarks borg CRUD (create, extract, update, delete)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand benchmark; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -s e -l encryption -d 'Select encryption key mode **(required)**' -r -f -a "none\t''
keyfile\t''
repokey\t''
authenticated\t''
keyfile-blake2\t''
repokey-blake2\t''
authenticated-blake2\t''"
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l storage-quota -d 'Set storage quota of the new repository (e.g. 5G, 1.5T). Default: no quota' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l append-only -d 'Create an append-only mode repository'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l make-parent-dirs -d 'Create the parent directories of the repository directory, if they are missing'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand init" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l max-duration -d 'Do only a partial repo check for max. SECONDS seconds (Default: unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -s P -l prefix -d 'Only consider archive names starting with this prefix (deprecated)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -s a -l glob-archives -d 'Only consider archive names matching the glob' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l sort-by -d 'Comma-separated list of sorting keys; valid keys are: timestamp, archive, name, id' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l first -d 'Consider first N archives after other filters were applied' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l last -d 'Consider last N archives after other filters were applied' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l repository-only -d 'Only perform repository checks'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l archives-only -d 'Only perform archives checks'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l verify-data -d 'Perform cryptographic archive data integrity verification (conflicts with --repository-only)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l repair -d 'Attempt to repair any inconsistencies found'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l save-space -d 'Work slower, but using less space (accepted and ignored, as by borg)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand check" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l threshold -d 'Set minimum threshold for saved space in PERCENT (default: 10)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -s n -l dry-run -d 'Do not change the repository (accepted since borg 1.2.9; does nothing at all)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l cleanup-commits -d 'Clean up commit-only 17-byte segment files left by borg 1.1'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand compact" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand break-lock" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand with-lock" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l filter -d 'Only display items with the given status characters' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l stdin-name -d 'Use NAME in archive for stdin data (default: stdin)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l stdin-user -d 'Set user USER in archive for stdin data (default: root)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l stdin-group -d 'Set group GROUP in archive for stdin data (default: root)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l stdin-mode -d 'Set mode to M in archive for stdin data (default: 0660)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l paths-delimiter -d 'Set path delimiter for --paths-from-stdin and --paths-from-command (default: \\n)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -s e -l exclude -d 'Exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l exclude-from -d 'Read exclude patterns from EXCLUDEFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l pattern -d 'Include/exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l patterns-from -d 'Read include/exclude patterns from PATTERNFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l exclude-if-present -d 'Exclude directories that are tagged by containing a filesystem object with the given NAME' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l files-cache -d 'Operate files cache in MODE (default: ctime,size,inode)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l files-changed -d 'Detect files changed during backup by MODE (ctime, mtime, disabled; default: ctime)' -r -f -a "ctime\t''
mtime\t''
disabled\t''"
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l comment -d 'Add a comment text to the archive' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l timestamp -d 'Manually specify the archive creation date/time (UTC, yyyy-mm-ddThh:mm:ss format)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -s c -l checkpoint-interval -d 'Write checkpoint every SECONDS seconds (default: 1800)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l chunker-params -d 'Specify the chunker parameters (ALGO, CHUNK_MIN_EXP, CHUNK_MAX_EXP, HASH_MASK_BITS, HASH_WINDOW_SIZE)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -s C -l compression -d 'Select compression algorithm' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -s n -l dry-run -d 'Do not create a backup archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -s s -l stats -d 'Print statistics for the created archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l quick-stats -d 'Print only archive statistics, skipping repository-wide statistics'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l list -d 'Output verbose list of items (files, dirs, ...)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l json -d 'Output stats as JSON. Implies --stats'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l content-from-command -d 'Interpret PATH as a command and store its stdout'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l paths-from-stdin -d 'Read DELIM-separated list of paths to back up from stdin'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l paths-from-command -d 'Interpret PATH as a command and treat its output as --paths-from-stdin'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l exclude-caches -d 'Exclude directories that contain a CACHEDIR.TAG file'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l keep-exclude-tags -d 'If tag objects are specified with --exclude-if-present, don\'t omit the tag objects themselves'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l exclude-nodump -d 'Exclude files flagged NODUMP'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l read-special -d 'Open and read block and char device files as well as FIFOs as if they were regular files. Also follows symlinks pointing to these kinds of files'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -s x -l one-file-system -d 'Stay in the same file system and do not store mount points of other file systems'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l numeric-ids -d 'Only store numeric user and group identifiers'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l atime -d 'Do store atime into archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l noatime -d 'Do not store atime into archive (the default; deprecated)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l noctime -d 'Do not store ctime into archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l nobirthtime -d 'Do not store birthtime (creation date) into archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l noflags -d 'Do not read and store flags (e.g. NODUMP, IMMUTABLE) into archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l noacls -d 'Do not read and store ACLs into archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l noxattrs -d 'Do not read and store xattrs into archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand create" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -s e -l exclude -d 'Exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l exclude-from -d 'Read exclude patterns from EXCLUDEFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l pattern -d 'Include/exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l patterns-from -d 'Read include/exclude patterns from PATTERNFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l strip-components -d 'Remove the specified number of leading path elements' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l list -d 'Output verbose list of items (files, dirs, ...)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -s n -l dry-run -d 'Do not actually change any files'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l numeric-ids -d 'Only obey numeric user and group identifiers'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l noflags -d 'Do not extract/set flags (e.g. NODUMP, IMMUTABLE)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l noacls -d 'Do not extract/set ACLs'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l noxattrs -d 'Do not extract/set xattrs'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l stdout -d 'Write all extracted data to stdout'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l sparse -d 'Create holes in output sparse file from all-zero chunks'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand extract" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l format -d 'Specify format for file or archive listing' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -s P -l prefix -d 'Only consider archive names starting with this prefix (deprecated)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -s a -l glob-archives -d 'Only consider archive names matching the glob' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l sort-by -d 'Comma-separated list of sorting keys; valid keys are: timestamp, archive, name, id' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l first -d 'Consider first N archives after other filters were applied' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l last -d 'Consider last N archives after other filters were applied' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -s e -l exclude -d 'Exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l exclude-from -d 'Read exclude patterns from EXCLUDEFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l pattern -d 'Include/exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l patterns-from -d 'Read include/exclude patterns from PATTERNFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l consider-checkpoints -d 'Show checkpoint archives in the repository contents list'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l short -d 'Only print file/directory names, nothing else'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l json -d 'Only valid for listing repository contents. Format output as JSON'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l json-lines -d 'Only valid for listing archive contents. Format output as JSON Lines'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand list" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -s P -l prefix -d 'Only consider archive names starting with this prefix (deprecated)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -s a -l glob-archives -d 'Only consider archive names matching the glob' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l sort-by -d 'Comma-separated list of sorting keys; valid keys are: timestamp, archive, name, id' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l first -d 'Consider first N archives after other filters were applied' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l last -d 'Consider last N archives after other filters were applied' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l json -d 'Format output as JSON'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand info" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -s P -l prefix -d 'Only consider archive names starting with this prefix (deprecated)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -s a -l glob-archives -d 'Only consider archive names matching the glob' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l sort-by -d 'Comma-separated list of sorting keys; valid keys are: timestamp, archive, name, id' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l first -d 'Consider first N archives after other filters were applied' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l last -d 'Consider last N archives after other filters were applied' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -s n -l dry-run -d 'Do not change repository'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l list -d 'Output verbose list of archives'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -s s -l stats -d 'Print statistics for the deleted archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l quick-stats -d 'Print only deletion statistics, skipping repository-wide statistics'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l cache-only -d 'Delete only the local cache for the given repository'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l force -d 'Force deletion of corrupted archives; use twice if it still does not work'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l keep-security-info -d 'Keep the local security info when deleting a repository'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l save-space -d 'Work slower, but using less space'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand delete" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand rename" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l filter -d 'Only display items with the given status characters' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -s e -l exclude -d 'Exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l exclude-from -d 'Read exclude patterns from EXCLUDEFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l pattern -d 'Include/exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l patterns-from -d 'Read include/exclude patterns from PATTERNFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l exclude-if-present -d 'Exclude directories that are tagged by containing a filesystem object with the given NAME' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l target -d 'Create a new archive with the name ARCHIVE, do not replace existing archive (only applies for a single archive)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -s c -l checkpoint-interval -d 'Write checkpoint every SECONDS seconds (default: 1800)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l comment -d 'Add a comment text to the archive' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l timestamp -d 'Manually specify the archive creation date/time (UTC, yyyy-mm-ddThh:mm:ss format)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -s C -l compression -d 'Select compression algorithm' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l recompress -d 'Recompress data chunks according to MODE and --compression (if-different, always, never)' -r -f -a "never\t''
if-different\t''
always\t''"
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l chunker-params -d 'Rechunk using given chunker parameters, or `default` (default: do not rechunk)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l list -d 'Output verbose list of items (files, dirs, ...)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -s n -l dry-run -d 'Do not change anything'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -s s -l stats -d 'Print statistics at end'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l exclude-caches -d 'Exclude directories that contain a CACHEDIR.TAG file'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l keep-exclude-tags -d 'If tag objects are specified with --exclude-if-present, don\'t omit the tag objects themselves'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand recreate" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand version" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l keep-within -d 'Keep all archives within this time interval (e.g. 7d, 2w, 1m, 1y, 12H)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l keep-last -l keep-secondly -d 'Number of secondly archives to keep' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l keep-minutely -d 'Number of minutely archives to keep' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s H -l keep-hourly -d 'Number of hourly archives to keep' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s d -l keep-daily -d 'Number of daily archives to keep' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s w -l keep-weekly -d 'Number of weekly archives to keep' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s m -l keep-monthly -d 'Number of monthly archives to keep' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l keep-13weekly -d 'Number of quarterly archives to keep (13 week strategy)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l keep-3monthly -d 'Number of quarterly archives to keep (3 month strategy)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s y -l keep-yearly -d 'Number of yearly archives to keep' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s P -l prefix -d 'Only consider archive names starting with this prefix (deprecated)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s a -l glob-archives -d 'Only consider archive names matching the glob' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s c -l checkpoint-interval -d 'Write checkpoint every SECONDS seconds (Default: 1800)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s n -l dry-run -d 'Do not change repository'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l force -d 'Force pruning of corrupted archives, use `--force --force` in case `--force` does not work'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s s -l stats -d 'Print statistics for the deleted archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l quick-stats -d 'Print only deletion statistics, skipping repository-wide statistics'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l list -d 'Output verbose list of archives it keeps/prunes'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l save-space -d 'Work slower, but using less space'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand prune" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l sort-by -d 'Sort by FIELDS (comma-separated; prefix > for descending, < for ascending): path, size_added, size_removed, size_diff, size, user, group, uid, gid, ctime, mtime, ctime_diff, mtime_diff' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -s e -l exclude -d 'Exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l exclude-from -d 'Read exclude patterns from EXCLUDEFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l pattern -d 'Include/exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l patterns-from -d 'Read include/exclude patterns from PATTERNFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l numeric-ids -l numeric-owner -d 'Only consider numeric user and group identifiers (borg 1.4.5 accepts it; it changes nothing)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l same-chunker-params -d 'Override check of chunker parameters'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l sort -d 'Sort the output by path (deprecated, use --sort-by=path)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l content-only -d 'Only compare differences in content (exclude metadata differences)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l json-lines -d 'Format output as JSON Lines'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand diff" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l tar-filter -d 'Filter program to pipe data through (default: auto, by FILE\'s extension)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -s e -l exclude -d 'Exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l exclude-from -d 'Read exclude patterns from EXCLUDEFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l pattern -d 'Include/exclude paths matching PATTERN' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l patterns-from -d 'Read include/exclude patterns from PATTERNFILE, one per line' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l strip-components -d 'Remove the specified number of leading path elements' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l list -d 'Output verbose list of items (files, dirs, ...)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand export-tar" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l tar-filter -d 'Filter program to pipe data through (default: auto, by TARFILE\'s extension)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l filter -d 'Only display items with the given status characters' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l comment -d 'Add a comment text to the archive' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l timestamp -d 'Manually specify the archive creation date/time (UTC, yyyy-mm-ddThh:mm:ss format)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -s c -l checkpoint-interval -d 'Write checkpoint every SECONDS seconds (default: 1800)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l chunker-params -d 'Specify the chunker parameters (ALGO, CHUNK_MIN_EXP, CHUNK_MAX_EXP, HASH_MASK_BITS, HASH_WINDOW_SIZE)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -s C -l compression -d 'Select compression algorithm' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -s s -l stats -d 'Print statistics for the created archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l list -d 'Output verbose list of items (files, dirs, ...)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l json -d 'Output stats as JSON (implies --stats)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l ignore-zeros -d 'Ignore zero-filled blocks in the input tarball'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand import-tar" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -f -a "export" -d 'Export the repository key for backup'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -f -a "export-related-secrets" -d 'Export secrets for creating related repositories'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -f -a "import" -d 'Import the repository key from backup'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -f -a "change-passphrase" -d 'Change repository key file passphrase'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -f -a "migrate-to-repokey" -d 'Migrate passphrase -> repokey'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and not __fish_seen_subcommand_from export export-related-secrets import change-passphrase migrate-to-repokey help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l paper -d 'Create an export suitable for printing and later type-in'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l qr-html -d 'Create an html file suitable for printing and later type-in or qr scan'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from export-related-secrets" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l paper -d 'Interactively import from a backup done with `--paper`'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from change-passphrase" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from migrate-to-repokey" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export the repository key for backup'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "export-related-secrets" -d 'Export secrets for creating related repositories'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import the repository key from backup'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "change-passphrase" -d 'Change repository key file passphrase'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "migrate-to-repokey" -d 'Migrate passphrase -> repokey'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -s c -l cache -d 'Get and set values from the repo cache'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -s d -l delete -d 'Delete the key from the config file'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -s l -l list -d 'List the configuration of the repo'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand config" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l restrict-to-path -d 'Restrict repository access to PATH. Can be specified multiple times to allow the client access to several directories. Access to all sub-directories is granted implicitly; PATH doesn\'t need to directly point to a repository' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l restrict-to-repository -d 'Restrict repository access. Only the repository located at PATH (no sub-directories are considered) is accessible. Can be specified multiple times to allow the client access to several repositories. Unlike --restrict-to-path sub-directories are not accessible; PATH needs to directly point at a repository location. PATH may be an empty directory or the last element of PATH may not exist, in which case the client may initialize a repository there' -r -F
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l storage-quota -d 'Set storage quota of the repository (has priority over the repository\'s own quota setting) (e.g. 5G, 1.5T). When a new repository is initialized, sets the storage quota on the new repository as well. Default: no quota' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l debug-topic -d 'Enable TOPIC debugging (borg clients pass their `repository` topics on; oxiborg\'s server has no topic-specific debug output, so this changes nothing)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l append-only -d 'Only allow appending to repository segment files. Note that this only affects the low level structure of the repository, and running `delete` or `prune` or reading from the repository will still be allowed'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand serve" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand debug" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand mount" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand umount" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l umask -d 'Set umask to M (local only, default: 0077)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l lock-wait -d 'Wait at most SECONDS for acquiring a repository/cache lock (default: 1)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l remote-path -d 'Use PATH as borg executable on the remote (default: "borg")' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l rsh -d 'Use this command to connect to the \'borg serve\' process (default: \'ssh\')' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l upload-ratelimit -d 'Set network upload rate limit in kiByte/s (default: 0=unlimited)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l upload-buffer -d 'Set network upload buffer size in MiB. (default: 0=no buffer)' -r
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l critical -d 'Work on log level CRITICAL'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l error -d 'Work on log level ERROR'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l warning -d 'Work on log level WARNING (the default)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -s v -l info -l verbose -d 'Work on log level INFO'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l debug -d 'Enable debug output; work on log level DEBUG'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l log-json -d 'Output one JSON object per log line instead of formatted text'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l show-version -d 'Show/log the borg version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -l show-rc -d 'Show/log the return code (rc)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -s p -l progress -d 'Show progress information'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand upgrade" -s h -l help -d 'Print help'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "benchmark" -d 'Benchmark command'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "init" -d 'Initialize an empty repository'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "check" -d 'Verify repository'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "compact" -d 'Compact segment files in the repository'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "break-lock" -d 'Break the repository lock (e.g. in case it was left by a dead borg)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "with-lock" -d 'Run a user command with the repository lock held'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "create" -d 'Create new archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "extract" -d 'Extract archive contents'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "list" -d 'List archive or repository contents'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "info" -d 'Show archive details such as disk space used'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "delete" -d 'Delete an existing repository or archives'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "rename" -d 'Rename an existing archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "recreate" -d 'Re-create archives'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "version" -d 'Display the borg client / borg server version'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "prune" -d 'Prune repository archives according to rules'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "diff" -d 'Find differences in archive contents'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "export-tar" -d 'Create tarball from archive'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "import-tar" -d 'Create a backup archive from a tarball'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "key" -d 'Manage a keyfile or repokey of a repository'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "config" -d 'Get, set, and delete values in a repository or cache config file'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "serve" -d 'Start repository server process'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "debug" -d 'Create a backup (not implemented yet). Debugging command (not implemented yet)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "mount" -d 'Delete archives or a repository (not implemented yet). Extract archive contents (not implemented yet). Show archive details such as disk space used (not implemented yet). List archive or repository contents (not implemented yet). Mount an archive or repository as a FUSE filesystem (not implemented yet)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "umount" -d 'Rename an archive (not implemented yet). Unmount a FUSE filesystem (not implemented yet)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "upgrade" -d 'Upgrade a repository from a previous version (not implemented yet)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and not __fish_seen_subcommand_from benchmark init check compact break-lock with-lock create extract list info delete rename recreate version prune diff export-tar import-tar key config serve debug mount umount upgrade help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and __fish_seen_subcommand_from benchmark" -f -a "cpu" -d 'Benchmarks CPU bound operations (chunkers, hashes, MACs, encryption, compression, msgpack)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and __fish_seen_subcommand_from benchmark" -f -a "crud" -d 'Benchmarks borg CRUD (create, extract, update, delete)'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "export" -d 'Export the repository key for backup'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "export-related-secrets" -d 'Export secrets for creating related repositories'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "import" -d 'Import the repository key from backup'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "change-passphrase" -d 'Change repository key file passphrase'
complete -c oxiborg -n "__fish_oxiborg_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "migrate-to-repokey" -d 'Migrate passphrase -> repokey'
