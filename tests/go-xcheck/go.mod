module gpurent.example/xcheck

go 1.19
