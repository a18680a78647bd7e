/* Includes the precision-generic test body named by BODY twice: with REAL = float,
 * SUF = f32, then with REAL = double, SUF = f64. */
#define REAL float
#define SUF f32
#include BODY
#undef REAL
#undef SUF

#define REAL double
#define SUF f64
#include BODY
#undef REAL
#undef SUF
