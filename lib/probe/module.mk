# The probe's CPU reference for the FMA kernel uses fmaf() from libm.
DEP_LIBS += -lm
