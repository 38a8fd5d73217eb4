TEST_LIBS += -lm
