module gpurent-examples

go 1.19

require gpurent v0.0.0

replace gpurent => ../../bindings/go
