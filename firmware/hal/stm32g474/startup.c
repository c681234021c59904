/* startup.c - vector table, reset, and the fault handlers of the
 * STM32G474 build. The vector table is constant data in flash. */
#include <stdint.h>
#include <string.h>

#include "g4hal.h"
#include "stm32g474.h"

/* From the linker script. */
extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[], __stack_top[];
extern void *__jz_ctx_slot[];

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void NMI_Handler(void);
void MemManage_Handler(void);
void g4_memmanage(uint32_t *frame);

void Default_Handler(void)
{
    G4_SCB_AIRCR = 0x05FA0004u; /* an interrupt nobody expects: reset */
    for (;;)
        ;
}

void Reset_Handler(void)
{
    memcpy(__data_start, __data_load, (size_t)((uint8_t *)__data_end - (uint8_t *)__data_start));
    memset(__bss_start, 0, (size_t)((uint8_t *)__bss_end - (uint8_t *)__bss_start));
    G4_SCB_CPACR |= 0xFu << 20; /* CP10, CP11: the FPU */
    __asm volatile("dsb\n isb");
    __jz_ctx_slot[0] = 0;
    main();
    Default_Handler();
}

/* NMI: on this part the flash's ECC raises it for a double error in a
 * read (RM0440 3.3.8, FLASH_ECCR.ECCD): a double word torn by a power
 * cut. A read through the HAL expects it: the handler counts it in the
 * module's g4hal (flash_eccd), which the read compares to return
 * EK3_EIO; the flag is cleared and the read goes on with the word the
 * bus returned. Any other NMI (the clock security system) is fatal:
 * reset. */
void NMI_Handler(void)
{
    if (G4_FLASH_ECCR & G4_FLASH_ECCR_ECCD) {
        g4hal *h = __jz_ctx_slot[0];
        G4_FLASH_ECCR = G4_FLASH_ECCR_ECCD; /* write one to clear */
        if (h)
            h->flash_eccd++;
        return;
    }
    Default_Handler();
}

void HardFault_Handler(void)
{
    Default_Handler();
}

/* Thread-mode landing point of a trapped service fault: back into the
 * kernel's dispatch through the module's jmp_buf. */
static void g4_fault_return(void)
{
    g4hal *h = __jz_ctx_slot[0];
    longjmp(*h->trap, 1);
}

/* MemManage: the MPU stopped an access. If a service was being
 * dispatched, return from the exception into g4_fault_return instead of
 * the faulting instruction; otherwise the fault is the kernel's: reset. */
void g4_memmanage(uint32_t *frame)
{
    g4hal *h = __jz_ctx_slot[0];
    G4_SCB_CFSR = G4_SCB_CFSR; /* write one to clear */
    if (!h || !h->trap)
        Default_Handler();
    h->faults++;
    G4_MPU_CTRL = 0; /* the kernel runs with every region open */
    frame[6] = (uint32_t)(uintptr_t)g4_fault_return; /* stacked PC */
    frame[7] = (frame[7] & ~0x0600FC00u) | (1u << 24); /* clear IT/ICI, keep Thumb */
}

__attribute__((naked)) void MemManage_Handler(void)
{
    __asm volatile("tst lr, #4\n"
                   "ite eq\n"
                   "mrseq r0, msp\n"
                   "mrsne r0, psp\n"
                   "b g4_memmanage\n");
}

typedef void (*g4_vector)(void);

__attribute__((section(".isr_vector"), used)) static const g4_vector g4_vectors[16 + G4_IRQ_COUNT] = {
    (g4_vector)(uintptr_t)__stack_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    Default_Handler,   /* BusFault */
    Default_Handler,   /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,   /* SVCall */
    Default_Handler,   /* DebugMon */
    0,
    Default_Handler,   /* PendSV */
    g4hal_systick_irq,
    [16 ... 16 + G4_IRQ_TIM6_DAC - 1] = Default_Handler,
    [16 + G4_IRQ_TIM6_DAC] = g4hal_tim6_irq,
    [16 + G4_IRQ_TIM6_DAC + 1 ... 16 + G4_IRQ_COUNT - 1] = Default_Handler,
};
