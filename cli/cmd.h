/* cmd.h - the top-level subcommands of `ek3`, one file each (cmd_*.c).
 * Each takes argv[0] = its own name and returns a cli.h exit code. */
#ifndef CMD_H
#define CMD_H

int cmd_can(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_plant(int argc, char **argv);
int cmd_rack(int argc, char **argv);
int cmd_fw(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_api(int argc, char **argv);
int cmd_faults(int argc, char **argv);
int cmd_scenario(int argc, char **argv);
int cmd_nightly(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_fwimg(int argc, char **argv);

/* The scenario files of a command line (cmd_scenario.c), shared with
 * cmd_nightly.c: each argv[i] with used[i] set, a directory giving
 * every .lua file under it (its lib/ folders left out: helper modules),
 * sorted per directory. CLI_OK, or CLI_USAGE after a message naming the
 * path. sc_free releases the paths. */
#define SC_FILES_MAX 1024u
typedef struct sc_files {
    char *path[SC_FILES_MAX];
    unsigned n;
} sc_files;
int sc_collect(const char *w, int argc, char **argv, int *used, sc_files *f);
void sc_free(sc_files *f);

#endif /* CMD_H */
