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

#endif /* CMD_H */
