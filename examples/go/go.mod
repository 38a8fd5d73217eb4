module gpurent-examples

go 1.19

require gpurent.dev/gpurent v0.0.0

replace gpurent.dev/gpurent => ../../bindings/go
