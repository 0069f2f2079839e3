// Preloaded with --import into a CLI child: says on stderr when the child runs its first line of TypeScript.
// (A TypeScript preload makes Node ready its type stripping first, so the entry point loads at once after.)
process.stderr.write('kasper-test: javascript started\n')
