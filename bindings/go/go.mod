module gpurent

go 1.19
