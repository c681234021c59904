// ek3_prot.v - Level-0 hardware protection of one EK3 module (seed 2.2,
// 3.1, 5.2): comparators with hysteresis and a deglitch filter on the
// output voltage, output current, junction temperature and ground-fault
// current; a latch per comparator; and the gate enable, which is the AND
// of the firmware's request and no latched fault. Firmware can turn the
// gates off, never on against a fault. The thresholds are parameters,
// fixed as resistor dividers fix them, not registers firmware can write.
//
// Inputs are the sensed values as the comparators see them, as unsigned
// fixed point: volts x 10, milliamperes, degrees C x 10, ground-fault
// current in 0.1 mA. One clock is 100 ns (10 MHz).
`timescale 1ns/1ps
`default_nettype none

module ek3_prot #(
    parameter integer OVP_DV = 9200,   // 920.0 V
    parameter integer OCP_MA = 4000,   // 4.000 A
    parameter integer OTP_DC = 1050,   // 105.0 C
    parameter integer GFI_UA = 500,    // 50.0 mA (0.1 mA units)
    parameter integer HYST_PM = 20,    // hysteresis: 2.0 % of each threshold
    parameter integer DEGLITCH = 20    // clocks over the threshold before a trip (2 us)
) (
    input  wire        clk,
    input  wire        rst_n,
    input  wire [15:0] vout_dv,
    input  wire [15:0] iout_ma,
    input  wire [15:0] tj_dc,
    input  wire [15:0] igf_ua,
    input  wire        gate_req,    // the firmware asks for the gates
    input  wire        fault_clear, // the firmware asks to clear (level)
    output wire        gate_en,     // to the gate drivers
    output reg  [3:0]  latched,     // bit 0 OVP, 1 OCP, 2 OTP, 3 GFI
    output reg  [2:0]  first_code,  // 0 none, 1 OVP, 2 OCP, 3 OTP, 4 GFI
    output reg         clear_refused,
    output wire [3:0]  cmp_on,      // status: each comparator's state
    output wire [3:0]  held         // status: on for the whole deglitch window and more
);
    // Comparators with hysteresis: on above the threshold, off below
    // threshold - hysteresis.
    localparam integer NCMP = 4;
    wire [15:0] x   [0:NCMP-1];
    wire [15:0] th  [0:NCMP-1];
    wire [15:0] thl [0:NCMP-1];
    assign x[0] = vout_dv; assign th[0] = OVP_DV[15:0];
    assign x[1] = iout_ma; assign th[1] = OCP_MA[15:0];
    assign x[2] = tj_dc;   assign th[2] = OTP_DC[15:0];
    assign x[3] = igf_ua;  assign th[3] = GFI_UA[15:0];
    // Off thresholds, computed at elaboration in 32-bit integers (a 16-bit
    // product of threshold and hysteresis would wrap).
    localparam integer OVP_L = OVP_DV - OVP_DV * HYST_PM / 1000;
    localparam integer OCP_L = OCP_MA - OCP_MA * HYST_PM / 1000;
    localparam integer OTP_L = OTP_DC - OTP_DC * HYST_PM / 1000;
    localparam integer GFI_L = GFI_UA - GFI_UA * HYST_PM / 1000;
    assign thl[0] = OVP_L[15:0];
    assign thl[1] = OCP_L[15:0];
    assign thl[2] = OTP_L[15:0];
    assign thl[3] = GFI_L[15:0];

    reg  [NCMP-1:0] cmp;
    reg  [7:0]      cnt [0:NCMP-1];
    wire [NCMP-1:0] trip_now;
    integer k;

    // A comparator that has been on for DEGLITCH clocks trips now.
    genvar g;
    generate
        for (g = 0; g < NCMP; g = g + 1) begin : deglitch
            assign trip_now[g] = cmp[g] && (cnt[g] >= DEGLITCH[7:0] - 8'd1);
        end
    endgenerate

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            cmp <= {NCMP{1'b0}};
            latched <= 4'b0;
            first_code <= 3'd0;
            clear_refused <= 1'b0;
            for (k = 0; k < NCMP; k = k + 1)
                cnt[k] <= 8'd0;
        end else begin
            for (k = 0; k < NCMP; k = k + 1) begin
                if (x[k] > th[k])
                    cmp[k] <= 1'b1;
                else if (x[k] < thl[k])
                    cmp[k] <= 1'b0;
                // Deglitch: consecutive clocks with the comparator on.
                if (!cmp[k])
                    cnt[k] <= 8'd0;
                else if (cnt[k] != 8'hFF)
                    cnt[k] <= cnt[k] + 8'd1;
            end
            // Latch; the first fault's code is kept until a clear.
            latched <= latched | trip_now;
            if (latched == 4'b0 && trip_now != 4'b0)
                first_code <= trip_now[0] ? 3'd1 : trip_now[1] ? 3'd2 : trip_now[2] ? 3'd3 : 3'd4;
            // Clear: only with every comparator off (the fault is gone).
            clear_refused <= 1'b0;
            if (fault_clear && latched != 4'b0) begin
                if (cmp == {NCMP{1'b0}} && trip_now == 4'b0) begin
                    latched <= 4'b0;
                    first_code <= 3'd0;
                end else begin
                    clear_refused <= 1'b1;
                end
            end
        end
    end

    // Status lines (as comparator outputs routed to MCU pins): the plant
    // reads them to know when the block cannot change state.
    assign cmp_on = cmp;
    generate
        for (g = 0; g < NCMP; g = g + 1) begin : status
            assign held[g] = cmp[g] && (cnt[g] == 8'hFF);
        end
    endgenerate

    assign gate_en = gate_req && (latched == 4'b0) && (trip_now == 4'b0);
endmodule

`default_nettype wire
