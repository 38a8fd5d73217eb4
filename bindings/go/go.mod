module gpurent.dev/gpurent

go 1.19
