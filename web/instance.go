package web

import "github.com/gin-gonic/gin"

func (s *Server) mountInstance(r *gin.Engine) {}
