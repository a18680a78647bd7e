# CMake toolchain file for a Cortex-M4F (arm-none-eabi-gcc, hard float), as a firmware
# project would have it. otcore needs only the matching Rust target on top
# (-DOTCORE_RUST_TARGET=thumbv7em-none-eabihf when built from source).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
# Bare metal: CMake's compiler checks cannot link a program without a startup file.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -ffunction-sections -fdata-sections")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs --specs=nosys.specs -nostartfiles -Wl,-z,noexecstack")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Packages (otcore's prebuilt release) come from CMAKE_PREFIX_PATH on the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
