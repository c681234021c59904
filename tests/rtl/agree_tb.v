// agree_tb.v - the protection block under Icarus Verilog on a stimulus
// file, one line per clock: vout iout tj igf (hex, 16 bits each) and
// gate_req, fault_clear; writes the outputs after each rising edge, one
// line per clock, for rtl_agree to compare with the Verilated model's.
`timescale 1ns/1ps
`default_nettype none
module agree_tb;
    reg clk = 0, rst_n = 0, gate_req = 0, fault_clear = 0;
    reg [15:0] vout = 0, iout = 0, tj = 0, igf = 0;
    wire gate_en, clear_refused;
    wire [3:0] latched, cmp_on, held;
    wire [2:0] first_code;
    reg [79:0] stim [0:65535];
    integer n, i, fo;
    reg [1023:0] sfile, ofile;

    ek3_prot dut(.clk(clk), .rst_n(rst_n), .vout_dv(vout), .iout_ma(iout), .tj_dc(tj), .igf_ua(igf),
                 .gate_req(gate_req), .fault_clear(fault_clear), .gate_en(gate_en), .latched(latched),
                 .first_code(first_code), .clear_refused(clear_refused), .cmp_on(cmp_on), .held(held));

    initial begin
        if (!$value$plusargs("stim=%s", sfile) || !$value$plusargs("out=%s", ofile) ||
            !$value$plusargs("n=%d", n)) begin
            $display("usage: +stim=FILE +out=FILE +n=CLOCKS");
            $finish;
        end
        $readmemh(sfile, stim);
        fo = $fopen(ofile, "w");
        // Reset as the C wrapper does: one clock low, one clock high.
        #50 clk = 1; #50 clk = 0; rst_n = 1;
        #50 clk = 1; #50 clk = 0;
        for (i = 0; i < n; i = i + 1) begin
            {vout, iout, tj, igf, gate_req, fault_clear} = {stim[i][79:16], stim[i][4], stim[i][0]};
            #50 clk = 1;
            #1 $fwrite(fo, "%0d %0d %0d %0d %0d %0d %0d\n", gate_en, latched, first_code, clear_refused, cmp_on,
                       held, i);
            #49 clk = 0;
        end
        $fclose(fo);
        $finish;
    end
endmodule
`default_nettype wire
