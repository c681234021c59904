/*
 * ek3_assert.h - numbered contracts (prefix ek3_; QP/C's Q_REQUIRE_ID
 * style): the internal invariants whose breaking is a bug in our code,
 * never bad input (a frame, a file, a flag gets an ek3_err code and a
 * message instead: docs/architecture.md "Errors").
 *
 * A source file names its module once, EK3_DEFINE_MODULE("ipc"), and
 * numbers each contract inside that module's range (the table in
 * docs/architecture.md "Errors": 100 kernel IPC queues, 200 the kernel's
 * service table and scheduler, 300 the HIL channel, 400 the plant, ...),
 * so a report names one line of code even after the file moved:
 *   EK3_REQUIRE_ID(id, cond)    a precondition of the function
 *   EK3_INVARIANT_ID(id, cond)  a state that must hold here
 *   EK3_ERROR_ID(id)            a branch that must never be taken
 * A broken contract calls ek3_contract_failed, which never returns. On
 * the host (ek3_assert.c) it prints "ek3: contract broken: MODULE #ID at
 * FILE:LINE" on stderr and aborts (a core, a test that fails). On the
 * target (EK3_ON_TARGET, firmware/hal/stm32g474) the file is left out
 * (flash) and it is the fault hook: the gates off and the relay open
 * (the safe state), then a reset.
 * The condition is evaluated exactly once; contracts are never compiled
 * out (they are cheap, and a build without them would be another build).
 */
#ifndef EK3_ASSERT_H
#define EK3_ASSERT_H

_Noreturn void ek3_contract_failed(const char *module, unsigned id, const char *file, int line);

#define EK3_DEFINE_MODULE(name) static const char ek3_this_module_[] = name

#ifdef EK3_ON_TARGET
#define EK3_CONTRACT_FILE_ ((const char *)0)
#else
#define EK3_CONTRACT_FILE_ __FILE__
#endif

#define EK3_ERROR_ID(id) ek3_contract_failed(ek3_this_module_, (id), EK3_CONTRACT_FILE_, __LINE__)
#define EK3_REQUIRE_ID(id, cond) ((cond) ? (void)0 : EK3_ERROR_ID(id))
#define EK3_INVARIANT_ID(id, cond) EK3_REQUIRE_ID(id, cond)

#endif /* EK3_ASSERT_H */
