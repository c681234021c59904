/*
 * stm32g474.h - the registers of the STM32G474 (RM0440) and Cortex-M4
 * (ARMv7-M) the target HAL uses, and nothing else (prefix G4_).
 */
#ifndef STM32G474_H
#define STM32G474_H

#include <stdint.h>

#define G4_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* Cortex-M4 system */
#define G4_SYST_CSR G4_REG(0xE000E010u)
#define G4_SYST_RVR G4_REG(0xE000E014u)
#define G4_SYST_CVR G4_REG(0xE000E018u)
#define G4_NVIC_ISER(n) G4_REG(0xE000E100u + 4u * (n))
#define G4_NVIC_IPR(n) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (n)))
#define G4_SCB_VTOR G4_REG(0xE000ED08u)
#define G4_SCB_AIRCR G4_REG(0xE000ED0Cu)
#define G4_SCB_SHPR1 G4_REG(0xE000ED18u)
#define G4_SCB_SHCSR G4_REG(0xE000ED24u)
#define G4_SCB_CFSR G4_REG(0xE000ED28u)
#define G4_SCB_MMFAR G4_REG(0xE000ED34u)
#define G4_SCB_CPACR G4_REG(0xE000ED88u)
#define G4_DEMCR G4_REG(0xE000EDFCu)
#define G4_DWT_CTRL G4_REG(0xE0001000u)
#define G4_DWT_CYCCNT G4_REG(0xE0001004u)
#define G4_MPU_CTRL G4_REG(0xE000ED94u)
#define G4_MPU_RNR G4_REG(0xE000ED98u)
#define G4_MPU_RBAR G4_REG(0xE000ED9Cu)
#define G4_MPU_RASR G4_REG(0xE000EDA0u)
#define G4_SHCSR_MEMFAULTENA (1u << 16)
#define G4_MPU_CTRL_ENABLE 1u
#define G4_MPU_CTRL_PRIVDEFENA 4u

/* Reset and clock control, flash interface, power */
#define G4_RCC 0x40021000u
#define G4_RCC_CR G4_REG(G4_RCC + 0x00u)
#define G4_RCC_CFGR G4_REG(G4_RCC + 0x08u)
#define G4_RCC_PLLCFGR G4_REG(G4_RCC + 0x0Cu)
#define G4_RCC_AHB2ENR G4_REG(G4_RCC + 0x4Cu)
#define G4_RCC_APB1ENR1 G4_REG(G4_RCC + 0x58u)
#define G4_RCC_APB2ENR G4_REG(G4_RCC + 0x60u)
#define G4_RCC_CCIPR G4_REG(G4_RCC + 0x88u)
#define G4_RCC_CSR G4_REG(G4_RCC + 0x94u)
#define G4_RCC_CRRCR G4_REG(G4_RCC + 0x98u)
#define G4_FLASH 0x40022000u
#define G4_FLASH_ACR G4_REG(G4_FLASH + 0x00u)
#define G4_FLASH_KEYR G4_REG(G4_FLASH + 0x08u)
#define G4_FLASH_SR G4_REG(G4_FLASH + 0x10u)
#define G4_FLASH_CR G4_REG(G4_FLASH + 0x14u)
#define G4_FLASH_ECCR G4_REG(G4_FLASH + 0x18u)
#define G4_FLASH_ECCR_ECCD (1u << 31) /* ECC double error detected (write 1 to clear; raises the NMI) */
#define G4_PWR_CR5 G4_REG(0x40007080u)

/* GPIO ports A..G, 0x400 apart */
#define G4_GPIO(port) (0x48000000u + 0x400u * (port))
#define G4_GPIO_MODER(p) G4_REG(G4_GPIO(p) + 0x00u)
#define G4_GPIO_IDR(p) G4_REG(G4_GPIO(p) + 0x10u)
#define G4_GPIO_BSRR(p) G4_REG(G4_GPIO(p) + 0x18u)
#define G4_GPIO_AFRL(p) G4_REG(G4_GPIO(p) + 0x20u)
#define G4_GPIO_AFRH(p) G4_REG(G4_GPIO(p) + 0x24u)

/* ADC1 */
#define G4_ADC1 0x50000000u
#define G4_ADC_ISR G4_REG(G4_ADC1 + 0x00u)
#define G4_ADC_CR G4_REG(G4_ADC1 + 0x08u)
#define G4_ADC_CFGR G4_REG(G4_ADC1 + 0x0Cu)
#define G4_ADC_SMPR1 G4_REG(G4_ADC1 + 0x14u)
#define G4_ADC_SMPR2 G4_REG(G4_ADC1 + 0x18u)
#define G4_ADC_SQR(n) G4_REG(G4_ADC1 + 0x30u + 4u * (n))
#define G4_ADC_DR G4_REG(G4_ADC1 + 0x40u)
#define G4_ADC12_CCR G4_REG(0x50000308u)

/* HRTIM1: master, timers A..F 0x80 apart, common block at 0x380 */
#define G4_HRTIM 0x40016800u
#define G4_HRTIM_TIM(x) (G4_HRTIM + 0x80u * (1u + (x)))
#define G4_HRTIM_TIMCR(x) G4_REG(G4_HRTIM_TIM(x) + 0x00u)
#define G4_HRTIM_PER(x) G4_REG(G4_HRTIM_TIM(x) + 0x14u)
#define G4_HRTIM_CMP1(x) G4_REG(G4_HRTIM_TIM(x) + 0x1Cu)
#define G4_HRTIM_DT(x) G4_REG(G4_HRTIM_TIM(x) + 0x38u)
#define G4_HRTIM_SET1(x) G4_REG(G4_HRTIM_TIM(x) + 0x3Cu)
#define G4_HRTIM_RST1(x) G4_REG(G4_HRTIM_TIM(x) + 0x40u)
#define G4_HRTIM_OUTR(x) G4_REG(G4_HRTIM_TIM(x) + 0x68u)
#define G4_HRTIM_MCR G4_REG(G4_HRTIM + 0x00u)
#define G4_HRTIM_OENR G4_REG(G4_HRTIM + 0x394u)
#define G4_HRTIM_ODISR G4_REG(G4_HRTIM + 0x398u)
#define G4_HRTIM_DLLCR G4_REG(G4_HRTIM + 0x3CCu)
#define G4_HRTIM_ISR G4_REG(G4_HRTIM + 0x380u)
#define G4_HRTIM_BMCR G4_REG(G4_HRTIM + 0x3A4u)
#define G4_HRTIM_BMPER G4_REG(G4_HRTIM + 0x3ACu)
#define G4_HRTIM_BMCMPR G4_REG(G4_HRTIM + 0x3A8u)
#define G4_HRTIM_FREQ_HZ 5440000000ULL /* 170 MHz x 32 (DLL) */

/* FDCAN1 and its message RAM (0x350 bytes per instance, fixed layout) */
#define G4_FDCAN1 0x40006400u
#define G4_FDCAN_DBTP G4_REG(G4_FDCAN1 + 0x0Cu)
#define G4_FDCAN_CCCR G4_REG(G4_FDCAN1 + 0x18u)
#define G4_FDCAN_NBTP G4_REG(G4_FDCAN1 + 0x1Cu)
#define G4_FDCAN_ECR G4_REG(G4_FDCAN1 + 0x40u)
#define G4_FDCAN_PSR G4_REG(G4_FDCAN1 + 0x44u)
#define G4_FDCAN_TDCR G4_REG(G4_FDCAN1 + 0x48u)
#define G4_FDCAN_IR G4_REG(G4_FDCAN1 + 0x50u)
#define G4_FDCAN_RXGFC G4_REG(G4_FDCAN1 + 0x80u)
#define G4_FDCAN_RXF0S G4_REG(G4_FDCAN1 + 0x90u)
#define G4_FDCAN_RXF0A G4_REG(G4_FDCAN1 + 0x94u)
#define G4_FDCAN_TXFQS G4_REG(G4_FDCAN1 + 0xC4u)
#define G4_FDCAN_TXBAR G4_REG(G4_FDCAN1 + 0xCCu)
#define G4_FDCAN_CKDIV G4_REG(0x40006500u)
#define G4_SRAMCAN 0x4000A400u
#define G4_SRAMCAN_RXF0 (G4_SRAMCAN + 0x0B0u) /* 3 elements of 18 words */
#define G4_SRAMCAN_TXB (G4_SRAMCAN + 0x278u)  /* 3 elements of 18 words */
#define G4_CCCR_INIT 1u
#define G4_CCCR_CCE 2u
#define G4_CCCR_FDOE (1u << 8)
#define G4_CCCR_BRSE (1u << 9)

/* RNG, IWDG, TIM6 */
#define G4_RNG_CR G4_REG(0x50060800u)
#define G4_RNG_SR G4_REG(0x50060804u)
#define G4_RNG_DR G4_REG(0x50060808u)
#define G4_IWDG_KR G4_REG(0x40003000u)
#define G4_IWDG_PR G4_REG(0x40003004u)
#define G4_IWDG_RLR G4_REG(0x40003008u)
#define G4_TIM6 0x40001000u
#define G4_TIM6_CR1 G4_REG(G4_TIM6 + 0x00u)
#define G4_TIM6_DIER G4_REG(G4_TIM6 + 0x0Cu)
#define G4_TIM6_SR G4_REG(G4_TIM6 + 0x10u)
#define G4_TIM6_PSC G4_REG(G4_TIM6 + 0x28u)
#define G4_TIM6_ARR G4_REG(G4_TIM6 + 0x2Cu)

/* Interrupt numbers (RM0440 table 97) */
#define G4_IRQ_FDCAN1_IT0 21u
#define G4_IRQ_TIM6_DAC 54u
#define G4_IRQ_COUNT 102u

#define G4_SYSCLK_HZ 170000000u

#endif /* STM32G474_H */
