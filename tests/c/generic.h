/* Names for the precision-generic test bodies: a file that includes this after
 * defining REAL (float or double) and SUF (f32 or f64) can write FN(sinkhorn_solve)
 * for otc_sinkhorn_solve_f32 and TYPE(ot_problem) for otc_ot_problem_f32. */
#define OTC_CAT_(a, b) a##b
#define OTC_CAT(a, b) OTC_CAT_(a, b)
#define FN(name) OTC_CAT(OTC_CAT(otc_, name), OTC_CAT(_, SUF))
#define TYPE(name) OTC_CAT(OTC_CAT(otc_, name), OTC_CAT(_, SUF))
/* A name local to one precision (for static helpers of the included body). */
#define LOCAL(name) OTC_CAT(name, OTC_CAT(_, SUF))
