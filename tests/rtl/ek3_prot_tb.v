// ek3_prot_tb.v - the protection block under Icarus Verilog: the same
// behaviour the Verilated model is tested for in C, from a second
// simulator. Prints "PASS" at the end, or "FAIL: ..." and stops.
`timescale 1ns/1ps
`default_nettype none
module ek3_prot_tb;
    reg clk = 0, rst_n = 0, gate_req = 0, fault_clear = 0;
    reg [15:0] vout = 7500, iout = 3000, tj = 600, igf = 0;
    wire gate_en, clear_refused;
    wire [3:0] latched, cmp_on, held;
    wire [2:0] first_code;
    integer fails = 0, i, t_cross, t_trip;

    ek3_prot dut(.clk(clk), .rst_n(rst_n), .vout_dv(vout), .iout_ma(iout), .tj_dc(tj), .igf_ua(igf),
                 .gate_req(gate_req), .fault_clear(fault_clear), .gate_en(gate_en), .latched(latched),
                 .first_code(first_code), .clear_refused(clear_refused), .cmp_on(cmp_on), .held(held));
    always #50 clk = ~clk; // 10 MHz

    task check(input cond, input [8*64-1:0] what);
        if (!cond) begin
            $display("FAIL: %0s (t=%0t)", what, $time);
            fails = fails + 1;
        end
    endtask

    initial begin
        #200 rst_n = 1;
        gate_req = 1;
        #1000 check(gate_en === 1'b1, "gates follow the request");
        // Just under the OCP threshold, with noise: never trips.
        for (i = 0; i < 2000; i = i + 1) begin
            @(negedge clk) iout = 3990 + ($random % 10);
        end
        check(latched === 4'b0, "3.98-3.999 A with noise does not trip");
        // A spike over the threshold shorter than the deglitch: no trip.
        @(negedge clk) iout = 4500;
        repeat (15) @(negedge clk);
        iout = 3000;
        repeat (50) @(negedge clk);
        check(latched === 4'b0, "a 1.5 us spike does not trip");
        // A step over: trips within the deglitch (2 us), first code OCP.
        @(negedge clk) iout = 4100;
        t_cross = $time;
        wait (gate_en === 1'b0);
        t_trip = $time;
        check(t_trip - t_cross <= 2200, "tripped within 2.2 us of the crossing");
        @(posedge clk); // the latch takes the trip at the next edge
        #1;
        check(latched === 4'b0010 && first_code === 3'd2, "OCP latched, first code OCP");
        // A second fault keeps the first code.
        @(negedge clk) vout = 9300;
        repeat (30) @(negedge clk);
        check(latched === 4'b0011 && first_code === 3'd2, "OVP latched too, first code still OCP");
        // Firmware asserting the gates against a latched fault: nothing.
        gate_req = 1;
        repeat (5) @(negedge clk);
        check(gate_en === 1'b0, "no gates against a latched fault");
        // Clearing while the fault persists fails.
        fault_clear = 1;
        @(negedge clk);
        @(negedge clk);
        check(clear_refused === 1'b1 && latched !== 4'b0, "clear refused while the fault persists");
        fault_clear = 0;
        // Fault gone (below threshold minus hysteresis), then cleared: restart.
        iout = 3000; vout = 7500;
        repeat (5) @(negedge clk);
        fault_clear = 1;
        @(negedge clk);
        @(negedge clk);
        fault_clear = 0;
        check(latched === 4'b0 && first_code === 3'd0, "cleared once the fault is gone");
        check(gate_en === 1'b1, "the module can restart");
        // Hysteresis: back just under the threshold keeps the comparator on.
        @(negedge clk) tj = 1060;
        repeat (30) @(negedge clk);
        check(latched === 4'b0100, "OTP trips");
        tj = 1040; // under 105.0 C, above 102.9 C: the comparator stays on
        fault_clear = 1;
        repeat (2) @(negedge clk);
        check(latched === 4'b0100, "inside the hysteresis band the fault is still there");
        fault_clear = 0;
        tj = 600;
        fault_clear = 1;
        repeat (2) @(negedge clk);
        fault_clear = 0;
        check(latched === 4'b0000, "OTP cleared below its band");
        // The band is 2 % on every channel, OVP and OCP included (their
        // threshold x hysteresis products overflow 16 bits).
        @(negedge clk) iout = 4100;
        repeat (300) @(negedge clk);
        check(latched === 4'b0010 && held === 4'b0010, "OCP trips and its comparator is held on");
        iout = 3940; // under 4.000 A, above 3.920 A
        fault_clear = 1;
        repeat (2) @(negedge clk);
        check(latched === 4'b0010 && cmp_on === 4'b0010, "OCP: inside the band the fault is still there");
        iout = 3910;
        repeat (2) @(negedge clk);
        fault_clear = 0;
        check(latched === 4'b0000 && cmp_on === 4'b0000, "OCP cleared under 98 % of its threshold");
        @(negedge clk) vout = 9300;
        repeat (30) @(negedge clk);
        vout = 9100; // under 920.0 V, above 901.6 V
        fault_clear = 1;
        repeat (2) @(negedge clk);
        check(latched === 4'b0001, "OVP: inside the band the fault is still there");
        vout = 9000;
        repeat (2) @(negedge clk);
        fault_clear = 0;
        check(latched === 4'b0000, "OVP cleared under 98 % of its threshold");
        if (fails == 0)
            $display("PASS");
        $finish;
    end
endmodule
`default_nettype wire
