/* stub: being written */
#ifndef CNNC_RT_H
#define CNNC_RT_H
#endif
