module kasper-node/bench/contenders/gobench

go 1.26.0
