/* node_cmds.h - zc-admin subcommands that work on a node's data directory: the
 * federation pepper, the region list, database initialisation, accounts, demo seeding and the route table.
 * Each takes argv with argv[0] = the subcommand and returns the process exit code. */
#ifndef ZC_ADMIN_NODE_CMDS_H
#define ZC_ADMIN_NODE_CMDS_H

int cmd_pepper(int argc, char **argv);  /* pepper --out FILE */
int cmd_regions(int argc, char **argv); /* regions [--schemas DIR] */
int cmd_init(int argc, char **argv);    /* init --data DIR --node ID [--pepper F] */
int cmd_account(int argc, char **argv); /* account --data DIR --node ID --role R --name N --password P ... */
int cmd_seed(int argc, char **argv);    /* seed --demo --data DIR --node ID [--pepper F] --out FILE */
int cmd_routes(int argc, char **argv);  /* routes: the route table and entry types as JSON */

/* The value after "--zName" in argv, or NULL. */
const char *admin_opt(int argc, char **argv, const char *zName);
/* 1 when the flag "--zName" is present. */
int admin_flag(int argc, char **argv, const char *zName);

#endif
