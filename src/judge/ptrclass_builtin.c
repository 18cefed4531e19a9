/*
 * ptrclass_builtin.c - the provider table built into the programs.
 *
 * Exports ptrclass_builtin_table (ptrclass.h): the bytes of
 * data/ptr-providers.conf and a NUL, assembled into this object with the
 * assembler's .incbin, so a program run from a checkout needs no installed
 * table and the built-in copy can never drift from the file (a generated
 * C file would need a generator and a rule every build path repeats; a
 * checked-in copy would need a test to keep it in step).  The path is
 * relative to the directory the compiler runs in: the project root, for
 * make and tests/run-fuzz.sh alike.  The Makefile makes this object depend
 * on the data file.  The table is parsed by the same code as a file
 * (ptrclass_new_tables), so it is checked the same way.
 */
#include "ptrclass.h"

__asm__(
    "	.section .rodata\n"
    "	.global ptrclass_builtin_table\n"
    "	.type ptrclass_builtin_table, @object\n"
    "ptrclass_builtin_table:\n"
    "	.incbin \"data/ptr-providers.conf\"\n"
    "	.byte 0\n"
    "	.size ptrclass_builtin_table, . - ptrclass_builtin_table\n"
    "	.previous\n");
